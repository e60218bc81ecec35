//! Linear (GraphQL at `/graphql`): a team's issues with a label (and, with
//! `delegated`, those delegated to the key's own app user, `Issue.delegate`), not yet
//! started (backlog, unstarted or triage), become tasks. A task's phase moves the issue to the
//! team's workflow states by type: in progress and needs input to its first started
//! state, review to a started state named like "review" (else the first started one),
//! done to its first completed state; a failure leaves the state and says so in a
//! comment. A label `agent:<name>` names the agent profile; the other labels are tags.

use async_trait::async_trait;
use bosun_core::source::{Comment, Item, ItemState, LinearConfig, Phase, Written};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::http::{Http, SourceError, str_field, time_field};
use crate::{Connector, Mark, after_cursor};

const PER_SECOND: u32 = 5;
const ISSUE_FIELDS: &str = "id identifier title description url updatedAt archivedAt state { name type } labels { nodes { name } } assignee { name } delegate { id }";

pub struct Linear {
    http: Http,
    config: LinearConfig,
    /// The team's workflow states, and the key's own user, asked once.
    team: tokio::sync::OnceCell<Team>,
}

struct Team {
    me: String,
    /// (id, name, type, position)
    states: Vec<(String, String, String, f64)>,
}

impl Linear {
    pub fn new(config: LinearConfig, api: &str, token: &str) -> Result<Linear, SourceError> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(token)
            .map_err(|_| SourceError::Setup("the Linear API key holds characters a header cannot carry".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        Ok(Linear { http: Http::new("Linear", api, PER_SECOND, headers), config, team: Default::default() })
    }

    /// A GraphQL request's `data`; its `errors` become a [`SourceError`].
    async fn graphql(&self, what: &str, query: &str, variables: Value) -> Result<Value, SourceError> {
        let body = json!({"query": query, "variables": variables});
        let out = self.http.json(what, || self.http.request(Method::POST, "/graphql").json(&body)).await?;
        if let Some(first) = out["errors"].as_array().and_then(|e| e.first()) {
            let message = first["message"].as_str().unwrap_or("error").to_string();
            let code =
                first["extensions"]["code"].as_str().or(first["extensions"]["type"].as_str()).unwrap_or_default().to_ascii_lowercase();
            return Err(if code.contains("auth") {
                SourceError::Unauthorized { service: "Linear", message }
            } else if message.to_ascii_lowercase().contains("not found") {
                SourceError::NotFound { service: "Linear", what: what.to_string(), message }
            } else {
                SourceError::Api { service: "Linear", status: 200, message }
            });
        }
        Ok(out["data"].clone())
    }

    async fn team(&self) -> Result<&Team, SourceError> {
        self.team
            .get_or_try_init(|| async {
                let q = "query($key: String!) { viewer { id } teams(filter: { key: { eq: $key } }) { nodes { id key states { nodes { id name type position } } } } }";
                let data = self.graphql("the team", q, json!({"key": self.config.team})).await?;
                let team = &data["teams"]["nodes"][0];
                if team.is_null() {
                    return Err(SourceError::Setup(format!("Linear has no team with the key {:?} that this key can see", self.config.team)));
                }
                let states = team["states"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                        (f("id"), f("name"), f("type"), s["position"].as_f64().unwrap_or(0.0))
                    })
                    .collect();
                Ok(Team { me: str_field(&self.http, &data["viewer"], "id")?.to_string(), states })
            })
            .await
    }

    /// Whether the issue is one this source watches: labelled, or delegated to bosun.
    fn watched(&self, labels: &[String], issue: &Value, me: &str) -> bool {
        self.config.label.as_ref().is_some_and(|l| labels.contains(l))
            || (self.config.delegated && issue["delegate"]["id"].as_str() == Some(me))
    }

    fn item(&self, issue: &Value, me: &str) -> Result<Item, SourceError> {
        let labels: Vec<String> =
            issue["labels"]["nodes"].as_array().into_iter().flatten().filter_map(|l| l["name"].as_str().map(String::from)).collect();
        let agent = labels.iter().find_map(|l| l.strip_prefix("agent:").map(|a| a.trim().to_string()));
        let tags =
            labels.iter().filter(|l| Some(l.as_str()) != self.config.label.as_deref() && !l.starts_with("agent:")).cloned().collect();
        let kind = issue["state"]["type"].as_str().unwrap_or_default();
        let name = issue["state"]["name"].as_str().unwrap_or_default().to_string();
        let state = if !issue["archivedAt"].is_null() {
            ItemState::Gone("archived".into())
        } else if kind == "canceled" {
            ItemState::Gone("canceled".into())
        } else if !self.watched(&labels, issue, me) {
            ItemState::Gone(match &self.config.label {
                Some(label) if self.config.delegated => format!("unlabelled {label:?} and taken back from bosun"),
                Some(label) => format!("unlabelled {label:?}"),
                None => "taken back from bosun".into(),
            })
        } else if matches!(kind, "backlog" | "unstarted" | "triage") {
            ItemState::Ready
        } else {
            ItemState::Other(name)
        };
        let identifier = str_field(&self.http, issue, "identifier")?.to_string();
        Ok(Item {
            external_id: str_field(&self.http, issue, "id")?.to_string(),
            edited_at: time_field(&self.http, issue, "updatedAt")?,
            title: str_field(&self.http, issue, "title")?.to_string(),
            body: issue["description"].as_str().unwrap_or_default().to_string(),
            tags,
            agent,
            assignee: issue["assignee"]["name"].as_str().map(String::from),
            repo: None,
            url: issue["url"].as_str().unwrap_or_default().to_string(),
            state,
            reference: identifier,
        })
    }

    /// The state a phase moves the issue to (None: it stays where it is).
    fn state_for(team: &Team, phase: Phase) -> Option<&(String, String, String, f64)> {
        let first = |kind: &str| team.states.iter().filter(|s| s.2 == kind).min_by(|a, b| a.3.total_cmp(&b.3));
        match phase {
            Phase::InProgress | Phase::NeedsInput => first("started"),
            Phase::Review => {
                team.states.iter().find(|s| s.2 == "started" && s.1.to_ascii_lowercase().contains("review")).or(first("started"))
            }
            Phase::Done => first("completed"),
            Phase::Failed => None,
        }
    }
}

#[async_trait]
impl Connector for Linear {
    async fn check(&self) -> Result<(), SourceError> {
        self.team().await.map(|_| ())
    }

    async fn changed(&self, mark: &Mark) -> Result<(Vec<Item>, Mark), SourceError> {
        let me = self.team().await?.me.clone();
        let mut watched = Vec::new();
        if let Some(label) = &self.config.label {
            watched.push(json!({"labels": {"name": {"eq": label}}}));
        }
        if self.config.delegated {
            watched.push(json!({"delegate": {"id": {"eq": me}}}));
        }
        let mut filter = json!({"team": {"key": {"eq": self.config.team}}, "or": watched});
        if let Some(since) = &mark.cursor {
            filter["updatedAt"] = json!({"gte": since});
        }
        let q = format!(
            "query($filter: IssueFilter, $after: String) {{ issues(filter: $filter, first: 50, after: $after, orderBy: updatedAt) {{ nodes {{ {ISSUE_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = self.graphql("the issues", &q, json!({"filter": filter, "after": after})).await?;
            for issue in data["issues"]["nodes"].as_array().into_iter().flatten() {
                items.push(self.item(issue, &me)?);
            }
            let page = &data["issues"]["pageInfo"];
            match (page["hasNextPage"].as_bool(), page["endCursor"].as_str()) {
                (Some(true), Some(end)) => after = Some(end.to_string()),
                _ => break,
            }
        }
        items.sort_by_key(|i| i.edited_at);
        let cursor =
            items.iter().map(|i| i.edited_at).max().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).or(mark.cursor.clone());
        Ok((items, Mark { cursor, state: mark.state.clone() }))
    }

    async fn item(&self, id: &str) -> Result<Option<Item>, SourceError> {
        let me = self.team().await?.me.clone();
        let q = format!("query($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}");
        match self.graphql("the issue", &q, json!({"id": id})).await {
            Ok(data) if data["issue"].is_null() => Ok(None),
            Ok(data) => self.item(&data["issue"], &me).map(Some),
            Err(SourceError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_phase(&self, item: &Item, phase: Phase) -> Result<Written, SourceError> {
        let team = self.team().await?;
        let Some((state_id, name, _, _)) = Self::state_for(team, phase) else {
            let current = match &item.state {
                ItemState::Other(name) => name.clone(),
                _ => String::new(),
            };
            return Ok(Written { state: current, at: item.edited_at });
        };
        let q = "mutation($id: String!, $state: String!) { issueUpdate(id: $id, input: { stateId: $state }) { success issue { updatedAt state { name } } } }";
        let data = self.graphql("the issue", q, json!({"id": item.external_id, "state": state_id})).await?;
        let issue = &data["issueUpdate"]["issue"];
        Ok(Written { state: issue["state"]["name"].as_str().unwrap_or(name).to_string(), at: time_field(&self.http, issue, "updatedAt")? })
    }

    async fn comment(&self, id: &str, markdown: &str) -> Result<String, SourceError> {
        let q = "mutation($id: String!, $body: String!) { commentCreate(input: { issueId: $id, body: $body }) { success comment { id } } }";
        let data = self.graphql("the issue", q, json!({"id": id, "body": markdown})).await?;
        Ok(str_field(&self.http, &data["commentCreate"]["comment"], "id")?.to_string())
    }

    async fn comments(&self, id: &str, after: Option<&str>) -> Result<Vec<Comment>, SourceError> {
        let me = self.team().await?.me.clone();
        let q = "query($id: String!) { issue(id: $id) { comments(first: 100) { nodes { id body createdAt user { id name } } } } }";
        let data = self.graphql("the issue", q, json!({"id": id})).await?;
        let mut all = Vec::new();
        for c in data["issue"]["comments"]["nodes"].as_array().into_iter().flatten() {
            all.push(Comment {
                id: str_field(&self.http, c, "id")?.to_string(),
                author: c["user"]["name"].as_str().unwrap_or("someone").to_string(),
                by_bosun: c["user"]["id"].as_str() == Some(me.as_str()),
                created_at: time_field(&self.http, c, "createdAt")?,
                text: c["body"].as_str().unwrap_or_default().to_string(),
            });
        }
        all.sort_by_key(|c| c.created_at);
        Ok(after_cursor(all, after))
    }
}
