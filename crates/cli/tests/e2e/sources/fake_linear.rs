//! A fake Linear GraphQL API (`POST /graphql`) on 127.0.0.1 for the operations bosun
//! sends, answering with the documented shapes: `viewer` and `teams` (with their
//! workflow states), `issues` filtered by team key, label name and `updatedAt`, paged
//! by `first`/`after` with `pageInfo` (two per page here), `issue(id)` with its
//! comments, `issueUpdate` (state) and `commentCreate`. The operation is told by its
//! root field; a personal API key goes in `Authorization` as it is (no `Bearer`); a
//! wrong one gets Linear's `AUTHENTICATION_ERROR`.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const KEY: &str = "lin_api_test";
pub const ME: &str = "user-bosun";
const STATES: &[(&str, &str, &str, f64)] = &[
    ("s-backlog", "Backlog", "backlog", 0.0),
    ("s-todo", "Todo", "unstarted", 1.0),
    ("s-progress", "In Progress", "started", 2.0),
    ("s-review", "In Review", "started", 3.0),
    ("s-done", "Done", "completed", 4.0),
    ("s-canceled", "Canceled", "canceled", 5.0),
];

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: String,
    pub identifier: String,
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    pub state: String,
    pub updated: DateTime<Utc>,
    /// The agent (app user) the issue is delegated to.
    pub delegate: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: String,
    pub issue: String,
    pub user: String,
    pub name: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Linear {
    pub issues: Vec<Issue>,
    pub comments: Vec<Comment>,
    /// The state ids bosun moved issues to, in order.
    pub moves: Vec<(String, String)>,
    next: u64,
}

pub type Shared = Arc<Mutex<Linear>>;

impl Linear {
    pub fn add_issue(&mut self, title: &str, labels: &[&str], state: &str) -> String {
        self.next += 1;
        let id = format!("issue-{}", self.next);
        self.issues.push(Issue {
            id: id.clone(),
            identifier: format!("ENG-{}", self.next),
            title: title.into(),
            description: format!("Do {title}."),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            state: state.into(),
            updated: Utc::now(),
            delegate: None,
        });
        id
    }

    /// Delegates the issue to an app user (`None`: takes it back), as a person does in Linear.
    pub fn delegate(&mut self, id: &str, to: Option<&str>) {
        let i = self.issues.iter_mut().find(|i| i.id == id).unwrap();
        i.delegate = to.map(String::from);
        i.updated = Utc::now();
    }

    pub fn issue(&self, id: &str) -> Issue {
        self.issues.iter().find(|i| i.id == id).unwrap().clone()
    }

    pub fn comment(&mut self, issue: &str, name: &str, body: &str) {
        self.next += 1;
        self.comments.push(Comment {
            id: format!("comment-{}", self.next),
            issue: issue.into(),
            user: format!("user-{name}"),
            name: name.into(),
            body: body.into(),
            at: Utc::now(),
        });
    }

    pub fn bot_comments(&self, issue: &str) -> Vec<String> {
        self.comments.iter().filter(|c| c.issue == issue && c.user == ME).map(|c| c.body.clone()).collect()
    }

    fn state(name_or_id: &str) -> (&'static str, &'static str, &'static str, f64) {
        *STATES.iter().find(|s| s.0 == name_or_id || s.1 == name_or_id).unwrap()
    }

    fn issue_json(&self, i: &Issue) -> Value {
        let (_, name, kind, _) = Linear::state(&i.state);
        json!({
            "id": i.id, "identifier": i.identifier, "title": i.title, "description": i.description,
            "url": format!("https://linear.app/acme/issue/{}", i.identifier),
            "updatedAt": i.updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "archivedAt": null,
            "state": {"name": name, "type": kind},
            "labels": {"nodes": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()},
            "delegate": i.delegate.as_ref().map(|d| json!({"id": d})),
            "comments": {"nodes": self.comments.iter().filter(|c| c.issue == i.id).map(|c| json!({
                "id": c.id, "body": c.body, "createdAt": c.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "user": {"id": c.user, "name": c.name},
            })).collect::<Vec<_>>()},
        })
    }
}

fn errors(message: &str, code: &str) -> Json<Value> {
    Json(json!({"errors": [{"message": message, "extensions": {"code": code, "type": code.to_lowercase()}}]}))
}

async fn graphql(State(s): State<Shared>, headers: HeaderMap, Json(req): Json<Value>) -> Json<Value> {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return errors("Authentication required, not authenticated", "AUTHENTICATION_ERROR");
    }
    let mut l = s.lock().unwrap();
    let q = req["query"].as_str().unwrap_or_default().to_string();
    let v = &req["variables"];
    if q.contains("teams(") {
        let key = v["key"].as_str().unwrap_or_default();
        let nodes: Vec<Value> = if key == "ENG" {
            vec![
                json!({"id": "team-eng", "key": "ENG", "states": {"nodes": STATES.iter().map(|(id, name, kind, pos)| json!({"id": id, "name": name, "type": kind, "position": pos})).collect::<Vec<_>>()}}),
            ]
        } else {
            vec![]
        };
        return Json(json!({"data": {"viewer": {"id": ME}, "teams": {"nodes": nodes}}}));
    }
    if q.contains("issueUpdate(") {
        let (id, state) = (v["id"].as_str().unwrap_or_default().to_string(), v["state"].as_str().unwrap_or_default().to_string());
        let Some(i) = l.issues.iter().position(|i| i.id == id) else { return errors("Entity not found: Issue", "INVALID_INPUT") };
        l.issues[i].state = state.clone();
        l.issues[i].updated = Utc::now();
        l.moves.push((id, state));
        let issue = l.issues[i].clone();
        let issue = l.issue_json(&issue);
        return Json(json!({"data": {"issueUpdate": {"success": true, "issue": issue}}}));
    }
    if q.contains("commentCreate(") {
        let (issue, body) = (v["id"].as_str().unwrap_or_default().to_string(), v["body"].as_str().unwrap_or_default().to_string());
        if !l.issues.iter().any(|i| i.id == issue) {
            return errors("Entity not found: Issue", "INVALID_INPUT");
        }
        l.next += 1;
        let id = format!("comment-{}", l.next);
        l.comments.push(Comment { id: id.clone(), issue, user: ME.into(), name: "bosun".into(), body, at: Utc::now() });
        return Json(json!({"data": {"commentCreate": {"success": true, "comment": {"id": id}}}}));
    }
    if q.contains("issue(id:") {
        let id = v["id"].as_str().unwrap_or_default();
        return match l.issues.iter().find(|i| i.id == id) {
            Some(i) => Json(json!({"data": {"issue": l.issue_json(i)}})),
            None => errors("Entity not found: Issue", "INVALID_INPUT"),
        };
    }
    if q.contains("issues(") {
        let f = &v["filter"];
        let team = f["team"]["key"]["eq"].as_str().unwrap_or_default();
        // `or` of `{labels: {name: {eq}}}` and `{delegate: {id: {eq}}}`.
        let matches = |i: &Issue| {
            f["or"].as_array().into_iter().flatten().any(|c| {
                c["labels"]["name"]["eq"].as_str().is_some_and(|label| i.labels.iter().any(|x| x == label))
                    || c["delegate"]["id"]["eq"].as_str().is_some_and(|d| i.delegate.as_deref() == Some(d))
            })
        };
        let since = f["updatedAt"]["gte"].as_str().map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        let mut hits: Vec<&Issue> =
            l.issues.iter().filter(|i| team == "ENG" && matches(i) && since.is_none_or(|t| i.updated >= t)).collect();
        hits.sort_by_key(|i| std::cmp::Reverse(i.updated)); // orderBy updatedAt: newest first
        let start: usize = v["after"].as_str().map(|c| c.parse().unwrap()).unwrap_or(0);
        let nodes: Vec<Value> = hits.iter().skip(start).take(2).map(|i| l.issue_json(i)).collect();
        let more = hits.len() > start + 2;
        return Json(
            json!({"data": {"issues": {"nodes": nodes, "pageInfo": {"hasNextPage": more, "endCursor": (start + 2).to_string()}}}}),
        );
    }
    errors(&format!("Cannot query this: {q}"), "GRAPHQL_VALIDATION_FAILED")
}

pub fn serve(shared: Shared) -> String {
    crate::harness::serve_fake(axum::Router::new().route("/graphql", axum::routing::post(graphql)).with_state(shared))
}
