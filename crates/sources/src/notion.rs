//! Notion: the pages of a database whose status property says "ready". Pinned to
//! `Notion-Version: 2026-03-11` (the data-source model): the database's first data
//! source is resolved once, then queried for ready pages edited since the mark,
//! oldest first, following `next_cursor`. A page's body is read as Markdown
//! (`GET /v1/pages/{id}/markdown`); states are written to the status property;
//! comments are posted as Markdown and read (those of bosun's own integration user
//! are told apart).

use async_trait::async_trait;
use bosun_core::source::{Comment, Item, ItemState, NotionConfig, Phase, Written};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::http::{Http, SourceError, str_field, time_field};
use crate::{Connector, Mark, after_cursor};

pub const NOTION_VERSION: &str = "2026-03-11";
/// Notion's documented average rate.
const PER_SECOND: u32 = 3;

pub struct Notion {
    http: Http,
    config: NotionConfig,
    /// The integration's own user (its comments are bosun's), asked once.
    bot: tokio::sync::OnceCell<String>,
    /// The status property's kind (`status` or `select`), asked once.
    status_kind: tokio::sync::OnceCell<String>,
}

impl Notion {
    pub fn new(config: NotionConfig, api: &str, token: &str) -> Result<Notion, SourceError> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| SourceError::Setup("the Notion token holds characters a header cannot carry".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Notion-Version", HeaderValue::from_static(NOTION_VERSION));
        Ok(Notion { http: Http::new("Notion", api, PER_SECOND, headers), config, bot: Default::default(), status_kind: Default::default() })
    }

    /// The database's data source and its property types.
    async fn data_source(&self) -> Result<(String, Value), SourceError> {
        let db = self.config.database.clone();
        let database = self.http.json("the database", || self.http.request(Method::GET, &format!("/v1/databases/{db}"))).await?;
        let id = database["data_sources"][0]["id"]
            .as_str()
            .ok_or_else(|| SourceError::Setup(format!("the Notion database {db} has no data source")))?
            .to_string();
        let source = self.http.json("the data source", || self.http.request(Method::GET, &format!("/v1/data_sources/{id}"))).await?;
        Ok((id, source["properties"].clone()))
    }

    async fn bot_id(&self) -> Result<&str, SourceError> {
        let id = self
            .bot
            .get_or_try_init(|| async {
                let me = self.http.json("the integration's user", || self.http.request(Method::GET, "/v1/users/me")).await?;
                Ok::<_, SourceError>(str_field(&self.http, &me, "id")?.to_string())
            })
            .await?;
        Ok(id)
    }

    /// The status property's kind in filters and writes: `status` or `select`.
    fn status_kind<'a>(&self, properties: &'a Value) -> Result<&'a str, SourceError> {
        let name = &self.config.status_property;
        match property_type(properties, name)? {
            kind @ ("status" | "select") => Ok(kind),
            other => Err(SourceError::Setup(format!("the Notion property {name:?} is a {other} property, not a status or select"))),
        }
    }

    fn item(&self, page: &Value) -> Result<Item, SourceError> {
        let id = str_field(&self.http, page, "id")?.to_string();
        let props = &page["properties"];
        let title =
            props.as_object().and_then(|o| o.values().find(|p| p["type"] == "title")).map(|p| plain(&p["title"])).unwrap_or_default();
        let state = if page["in_trash"] == true || page["archived"] == true {
            ItemState::Gone("the page was deleted in Notion".into())
        } else {
            match choice(&props[&self.config.status_property]) {
                Some(s) if s == self.config.ready => ItemState::Ready,
                Some(s) => ItemState::Other(s),
                None => ItemState::Other(String::new()),
            }
        };
        let text = |name: &Option<String>| name.as_ref().and_then(|n| value_text(&props[n.as_str()])).filter(|s| !s.is_empty());
        let tags = self
            .config
            .tags_property
            .as_ref()
            .map(|n| {
                props[n.as_str()]["multi_select"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t["name"].as_str().map(String::from)).collect())
            })
            .unwrap_or_default()
            .unwrap_or_default();
        Ok(Item {
            reference: if title.is_empty() { "the page".into() } else { format!("{title:?}") },
            title,
            edited_at: time_field(&self.http, page, "last_edited_time")?,
            body: String::new(),
            tags,
            agent: text(&self.config.agent_property),
            assignee: text(&self.config.assignee_property),
            repo: text(&self.config.repo_property),
            url: page["url"].as_str().unwrap_or_default().to_string(),
            state,
            external_id: id,
        })
    }
}

/// A property's type, or a setup error naming what the database has.
fn property_type<'a>(properties: &'a Value, name: &str) -> Result<&'a str, SourceError> {
    match properties.get(name) {
        Some(p) => Ok(p["type"].as_str().unwrap_or("unknown")),
        None => {
            let known: Vec<&str> = properties.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            Err(SourceError::Setup(format!("the Notion database has no property {name:?} (it has: {})", known.join(", "))))
        }
    }
}

/// Rich text's plain text.
fn plain(rich: &Value) -> String {
    rich.as_array().map(|a| a.iter().filter_map(|t| t["plain_text"].as_str()).collect()).unwrap_or_default()
}

/// A status or select property's option name.
fn choice(p: &Value) -> Option<String> {
    p["status"]["name"].as_str().or(p["select"]["name"].as_str()).map(String::from)
}

/// A property's value as text (select, status, rich text, title, URL, a person's name).
fn value_text(p: &Value) -> Option<String> {
    match p["type"].as_str()? {
        "select" | "status" => choice(p),
        "rich_text" => Some(plain(&p["rich_text"])),
        "title" => Some(plain(&p["title"])),
        "url" => p["url"].as_str().map(String::from),
        "people" => p["people"][0]["name"].as_str().map(String::from),
        _ => None,
    }
    .map(|s| s.trim().to_string())
}

#[async_trait]
impl Connector for Notion {
    async fn check(&self) -> Result<(), SourceError> {
        let (_, properties) = self.data_source().await?;
        self.status_kind(&properties)?;
        let c = &self.config;
        for (name, kinds) in [
            (&c.agent_property, &["select", "status", "rich_text", "people"][..]),
            (&c.tags_property, &["multi_select"][..]),
            (&c.repo_property, &["rich_text", "select", "url"][..]),
            (&c.assignee_property, &["people"][..]),
        ] {
            let Some(name) = name else { continue };
            let kind = property_type(&properties, name)?;
            if !kinds.contains(&kind) {
                return Err(SourceError::Setup(format!(
                    "the Notion property {name:?} is a {kind} property; bosun reads it as {}",
                    kinds.join(" or ")
                )));
            }
        }
        Ok(())
    }

    async fn changed(&self, mark: &Mark) -> Result<(Vec<Item>, Mark), SourceError> {
        let mut state = mark.state.clone();
        if !state["data_source"].is_string() || !state["status_kind"].is_string() {
            let (id, properties) = self.data_source().await?;
            state = json!({"data_source": id, "status_kind": self.status_kind(&properties)?});
        }
        let source = state["data_source"].as_str().unwrap_or_default().to_string();
        let kind = state["status_kind"].as_str().unwrap_or("status").to_string();
        let mut filter = json!({"property": self.config.status_property, kind.clone(): {"equals": self.config.ready}});
        if let Some(since) = &mark.cursor {
            filter = json!({"and": [filter, {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}}]});
        }
        let mut items = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut body =
                json!({"filter": filter, "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}], "page_size": 100});
            if let Some(s) = &start {
                body["start_cursor"] = json!(s);
            }
            let page = self
                .http
                .json("the data source", || self.http.request(Method::POST, &format!("/v1/data_sources/{source}/query")).json(&body))
                .await?;
            for p in page["results"].as_array().into_iter().flatten() {
                items.push(self.item(p)?);
            }
            match (page["has_more"].as_bool(), page["next_cursor"].as_str()) {
                (Some(true), Some(next)) => start = Some(next.to_string()),
                _ => break,
            }
        }
        let cursor =
            items.iter().map(|i| i.edited_at).max().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).or(mark.cursor.clone());
        Ok((items, Mark { cursor, state }))
    }

    async fn item(&self, id: &str) -> Result<Option<Item>, SourceError> {
        match self.http.json("the page", || self.http.request(Method::GET, &format!("/v1/pages/{id}"))).await {
            Ok(page) => self.item(&page).map(Some),
            Err(SourceError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn body(&self, item: &Item) -> Result<String, SourceError> {
        let id = &item.external_id;
        let md = self.http.json("the page", || self.http.request(Method::GET, &format!("/v1/pages/{id}/markdown"))).await?;
        Ok(str_field(&self.http, &md, "markdown")?.to_string())
    }

    async fn set_phase(&self, item: &Item, phase: Phase) -> Result<Written, SourceError> {
        let name = self.config.phases.name(phase).to_string();
        let id = &item.external_id;
        // The write takes the property's own kind (status or select), read once.
        let kind = self
            .status_kind
            .get_or_try_init(|| async {
                let (_, properties) = self.data_source().await?;
                self.status_kind(&properties).map(String::from)
            })
            .await?
            .clone();
        let body = json!({"properties": {self.config.status_property.clone(): {kind: {"name": name}}}});
        let page = self.http.json("the page", || self.http.request(Method::PATCH, &format!("/v1/pages/{id}")).json(&body)).await?;
        Ok(Written { state: name, at: time_field(&self.http, &page, "last_edited_time")? })
    }

    async fn comment(&self, id: &str, markdown: &str) -> Result<String, SourceError> {
        let body = json!({"parent": {"page_id": id}, "markdown": markdown});
        let c = self.http.json("the page", || self.http.request(Method::POST, "/v1/comments").json(&body)).await?;
        Ok(str_field(&self.http, &c, "id")?.to_string())
    }

    async fn comments(&self, id: &str, after: Option<&str>) -> Result<Vec<Comment>, SourceError> {
        let bot = self.bot_id().await?.to_string();
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut query = vec![("block_id", id.to_string()), ("page_size", "100".to_string())];
            if let Some(s) = &start {
                query.push(("start_cursor", s.clone()));
            }
            let page = self.http.json("the page", || self.http.request(Method::GET, "/v1/comments").query(&query)).await?;
            for c in page["results"].as_array().into_iter().flatten() {
                let author = c["created_by"]["id"].as_str().unwrap_or_default();
                all.push(Comment {
                    id: str_field(&self.http, c, "id")?.to_string(),
                    author: c["display_name"]["resolved_name"]
                        .as_str()
                        .or(c["created_by"]["name"].as_str())
                        .unwrap_or("someone")
                        .to_string(),
                    by_bosun: bot == author,
                    created_at: time_field(&self.http, c, "created_time")?,
                    text: plain(&c["rich_text"]),
                });
            }
            match (page["has_more"].as_bool(), page["next_cursor"].as_str()) {
                (Some(true), Some(next)) => start = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(after_cursor(all, after))
    }
}
