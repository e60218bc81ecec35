//! GitHub Issues: the open issues of a repository with a label (and, if set, an
//! assignee) become tasks. Listed by `since` the mark, oldest change first, following
//! the `Link` header, with `If-None-Match` on the first page (a 304 costs nothing
//! against the rate limit). A task's phase shows as a `bosun: <phase>` label and in
//! one status comment edited in place; done closes the issue. A label `agent:<name>`
//! names the agent profile; the issue's other labels are the task's tags.

use async_trait::async_trait;
use bosun_core::source::{Comment, GithubConfig, Item, ItemState, Phase, READY_MARK, Written};
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH, LINK};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::http::{Http, SourceError, str_field, time_field};
use crate::{Connector, Mark, after_cursor};

const PER_SECOND: u32 = 10;
const PHASES: [Phase; 5] = [Phase::InProgress, Phase::NeedsInput, Phase::Review, Phase::Done, Phase::Failed];

pub struct Github {
    http: Http,
    config: GithubConfig,
    /// The token's own login (its comments are bosun's), asked once.
    me: tokio::sync::OnceCell<String>,
}

/// The label showing a phase.
pub fn phase_label(phase: Phase) -> String {
    format!("bosun: {}", phase.as_str().replace('_', " "))
}

impl Github {
    pub fn new(config: GithubConfig, api: &str, token: &str) -> Result<Github, SourceError> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| SourceError::Setup("the GitHub token holds characters a header cannot carry".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("X-GitHub-Api-Version", HeaderValue::from_static("2022-11-28"));
        Ok(Github { http: Http::new("GitHub", api, PER_SECOND, headers), config, me: Default::default() })
    }

    fn repo(&self) -> &str {
        &self.config.repo
    }

    async fn me(&self) -> Result<&str, SourceError> {
        let me = self
            .me
            .get_or_try_init(|| async {
                let user = self.http.json("the token's user", || self.http.request(Method::GET, "/user")).await?;
                Ok::<_, SourceError>(str_field(&self.http, &user, "login")?.to_string())
            })
            .await?;
        Ok(me)
    }

    fn item(&self, issue: &Value) -> Result<Item, SourceError> {
        let number = issue["number"].as_i64().ok_or_else(|| self.http.decode("an issue without a number"))?;
        let labels: Vec<String> =
            issue["labels"].as_array().into_iter().flatten().filter_map(|l| l["name"].as_str().map(String::from)).collect();
        let ours: Vec<String> = PHASES.iter().map(|p| phase_label(*p)).collect();
        let agent = labels.iter().find_map(|l| l.strip_prefix("agent:").map(|a| a.trim().to_string()));
        let tags = labels.iter().filter(|l| **l != self.config.label && !ours.contains(l) && !l.starts_with("agent:")).cloned().collect();
        let state = if issue["state"] == "closed" {
            ItemState::Gone("closed".into())
        } else if labels.contains(&self.config.label) {
            ItemState::Ready
        } else {
            ItemState::Gone(format!("unlabelled {:?}", self.config.label))
        };
        Ok(Item {
            external_id: number.to_string(),
            edited_at: time_field(&self.http, issue, "updated_at")?,
            title: str_field(&self.http, issue, "title")?.to_string(),
            body: issue["body"].as_str().unwrap_or_default().to_string(),
            tags,
            agent,
            assignee: issue["assignee"]["login"].as_str().map(String::from),
            repo: None,
            url: issue["html_url"].as_str().unwrap_or_default().to_string(),
            state,
            reference: format!("#{number}"),
        })
    }

    /// A list from its first page's answer on, following `Link: <…>; rel="next"` (only
    /// within the API: a link elsewhere would carry the token there).
    async fn rest(&self, what: &str, first: reqwest::Response) -> Result<Vec<Value>, SourceError> {
        let mut res = first;
        let mut out = Vec::new();
        loop {
            let link = res.headers().get(LINK).and_then(|v| v.to_str().ok()).and_then(next_link);
            let page: Value = res.json().await.map_err(|e| self.http.decode(e))?;
            out.extend(page.as_array().cloned().unwrap_or_default());
            let Some(url) = link else { return Ok(out) };
            let Some(path) = url.strip_prefix(&self.http.base).filter(|p| p.starts_with('/')) else {
                return Err(self.http.decode(format!("a next page outside the API: {url}")));
            };
            let path = path.to_string();
            res = self.http.send(what, || self.http.request(Method::GET, &path)).await?;
        }
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find(|part| part.split(';').skip(1).any(|p| p.trim() == "rel=\"next\"")).and_then(|part| {
        let part = part.trim();
        part.strip_prefix('<').and_then(|rest| rest.split_once('>')).map(|(url, _)| url.to_string())
    })
}

#[async_trait]
impl Connector for Github {
    async fn check(&self) -> Result<(), SourceError> {
        let repo = self.repo().to_string();
        self.http.json(&format!("the repository {repo}"), || self.http.request(Method::GET, &format!("/repos/{repo}"))).await?;
        self.me().await?;
        Ok(())
    }

    async fn changed(&self, mark: &Mark) -> Result<(Vec<Item>, Mark), SourceError> {
        let repo = self.repo().to_string();
        let mut query = vec![
            ("labels", self.config.label.clone()),
            ("state", "all".to_string()),
            ("sort", "updated".to_string()),
            ("direction", "asc".to_string()),
            ("per_page", "100".to_string()),
        ];
        if let Some(since) = &mark.cursor {
            query.push(("since", since.clone()));
        }
        if let Some(who) = &self.config.assignee {
            query.push(("assignee", who.clone()));
        }
        let etag = mark.state["etag"].as_str().map(String::from);
        let build = || {
            let mut r = self.http.request(Method::GET, &format!("/repos/{repo}/issues")).query(&query);
            if let Some(tag) = &etag {
                r = r.header(IF_NONE_MATCH, tag);
            }
            r
        };
        let first = self.http.send(&format!("the repository {repo}"), build).await?;
        if first.status() == StatusCode::NOT_MODIFIED {
            return Ok((Vec::new(), mark.clone()));
        }
        let new_etag = first.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(String::from);
        let issues = self.rest("the issues", first).await?;
        let mut items = Vec::new();
        for issue in issues.iter().filter(|i| i.get("pull_request").is_none()) {
            items.push(self.item(issue)?);
        }
        let cursor =
            items.iter().map(|i| i.edited_at).max().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).or(mark.cursor.clone());
        Ok((items, Mark { cursor, state: json!({"etag": new_etag}) }))
    }

    async fn item(&self, id: &str) -> Result<Option<Item>, SourceError> {
        let repo = self.repo().to_string();
        match self.http.json("the issue", || self.http.request(Method::GET, &format!("/repos/{repo}/issues/{id}"))).await {
            Ok(issue) => self.item(&issue).map(Some),
            Err(SourceError::NotFound { .. }) | Err(SourceError::Api { status: 410, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_phase(&self, item: &Item, phase: Phase) -> Result<Written, SourceError> {
        let repo = self.repo().to_string();
        let n = &item.external_id;
        let label = phase_label(phase);
        let issue = format!("/repos/{repo}/issues/{n}");
        let now = self.http.json("the issue", || self.http.request(Method::GET, &issue)).await?;
        let has: Vec<String> =
            now["labels"].as_array().into_iter().flatten().filter_map(|l| l["name"].as_str().map(String::from)).collect();
        if !has.contains(&label) {
            self.http
                .json("the issue", || self.http.request(Method::POST, &format!("{issue}/labels")).json(&json!({"labels": [label]})))
                .await?;
        }
        // The other phases' labels go (a 404: someone removed it first).
        for other in PHASES.iter().map(|p| phase_label(*p)).filter(|l| *l != label && has.contains(l)) {
            match self.http.send("the label", || self.http.request(Method::DELETE, &format!("{issue}/labels/{}", encode(&other)))).await {
                Ok(_) | Err(SourceError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let after = if phase == Phase::Done {
            self.http
                .json("the issue", || {
                    self.http.request(Method::PATCH, &issue).json(&json!({"state": "closed", "state_reason": "completed"}))
                })
                .await?
        } else {
            self.http.json("the issue", || self.http.request(Method::GET, &issue)).await?
        };
        Ok(Written { state: READY_MARK.into(), at: time_field(&self.http, &after, "updated_at")? })
    }

    async fn comment(&self, id: &str, markdown: &str) -> Result<String, SourceError> {
        let repo = self.repo().to_string();
        let c = self
            .http
            .json("the issue", || {
                self.http.request(Method::POST, &format!("/repos/{repo}/issues/{id}/comments")).json(&json!({"body": markdown}))
            })
            .await?;
        c["id"].as_i64().map(|i| i.to_string()).ok_or_else(|| self.http.decode("a comment without an id"))
    }

    async fn status_note(&self, id: &str, existing: Option<&str>, markdown: &str) -> Result<String, SourceError> {
        let repo = self.repo().to_string();
        if let Some(c) = existing {
            let edited = self
                .http
                .send("the status comment", || {
                    self.http.request(Method::PATCH, &format!("/repos/{repo}/issues/comments/{c}")).json(&json!({"body": markdown}))
                })
                .await;
            match edited {
                Ok(_) => return Ok(c.to_string()),
                Err(SourceError::NotFound { .. }) => {} // deleted by a person: post it anew
                Err(e) => return Err(e),
            }
        }
        self.comment(id, markdown).await
    }

    async fn comments(&self, id: &str, after: Option<&str>) -> Result<Vec<Comment>, SourceError> {
        let me = self.me().await?.to_string();
        let repo = self.repo().to_string();
        let path = format!("/repos/{repo}/issues/{id}/comments");
        let first = self.http.send("the issue", || self.http.request(Method::GET, &path).query(&[("per_page", "100")])).await?;
        let list = self.rest("the issue", first).await?;
        let mut all = Vec::new();
        for c in &list {
            let author = c["user"]["login"].as_str().unwrap_or("someone").to_string();
            all.push(Comment {
                id: c["id"].as_i64().map(|i| i.to_string()).ok_or_else(|| self.http.decode("a comment without an id"))?,
                by_bosun: author == me,
                author,
                created_at: time_field(&self.http, c, "created_at")?,
                text: c["body"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(after_cursor(all, after))
    }
}

/// A label name as a path segment.
fn encode(s: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("a valid base");
    url.path_segments_mut().expect("a base").push(s);
    url.path().trim_start_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_the_others() {
        let h = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(next_link(h).as_deref(), Some("https://api.github.com/repositories/1/issues?page=2"));
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn label_names_are_path_segments() {
        assert_eq!(encode("bosun: in progress"), "bosun:%20in%20progress");
    }
}
