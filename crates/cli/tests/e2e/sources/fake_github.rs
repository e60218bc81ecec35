//! A fake GitHub REST API on 127.0.0.1 for issues and pull requests, answering as
//! GitHub documents: issue lists filtered by `labels`, `state`, `since` and
//! `assignee`, sorted by `updated` and paged with a `Link` header (two per page here,
//! so bosun must follow it), an `ETag` with `If-None-Match` answered 304; labels added
//! and removed (404 "Label does not exist"), comments listed, posted and edited,
//! issues closed, pull requests opened. Every request needs `Authorization: Bearer
//! test-token`; any change to an issue bumps its `updated_at`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const TOKEN: &str = "test-token";
pub const BOT: &str = "bosun-bot";

#[derive(Clone, Debug)]
pub struct Issue {
    pub number: i64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub closed: bool,
    pub updated: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: i64,
    pub issue: i64,
    pub user: String,
    pub body: String,
    pub at: DateTime<Utc>,
    pub edits: usize,
}

#[derive(Default)]
pub struct Github {
    pub issues: Vec<Issue>,
    pub comments: Vec<Comment>,
    /// Bodies of the pull requests opened.
    pub pulls: Vec<Value>,
    pub not_modified: usize,
    pub unauthorized: usize,
    next: i64,
    base: String,
}

pub type Shared = Arc<Mutex<Github>>;

impl Github {
    pub fn add_issue(&mut self, title: &str, body: &str, labels: &[&str]) -> i64 {
        let number = 12 + self.issues.len() as i64;
        self.issues.push(Issue {
            number,
            title: title.into(),
            body: body.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            closed: false,
            updated: Utc::now(),
        });
        number
    }

    pub fn issue(&self, n: i64) -> Issue {
        self.issues.iter().find(|i| i.number == n).unwrap().clone()
    }

    pub fn comment(&mut self, issue: i64, user: &str, body: &str) {
        self.next += 1;
        self.comments.push(Comment { id: 1000 + self.next, issue, user: user.into(), body: body.into(), at: Utc::now(), edits: 0 });
        self.touch(issue);
    }

    pub fn bot_comments(&self, issue: i64) -> Vec<Comment> {
        self.comments.iter().filter(|c| c.issue == issue && c.user == BOT).cloned().collect()
    }

    fn touch(&mut self, n: i64) {
        if let Some(i) = self.issues.iter_mut().find(|i| i.number == n) {
            i.updated = Utc::now();
        }
    }

    fn issue_json(&self, owner: &str, repo: &str, i: &Issue) -> Value {
        json!({
            "number": i.number,
            "title": i.title,
            "body": i.body,
            "state": if i.closed { "closed" } else { "open" },
            "labels": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
            "html_url": format!("https://github.example/{owner}/{repo}/issues/{}", i.number),
            "updated_at": i.updated.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "user": {"login": "ada"},
        })
    }

    fn comment_json(c: &Comment) -> Value {
        json!({"id": c.id, "body": c.body, "user": {"login": c.user}, "created_at": c.at.format("%Y-%m-%dT%H:%M:%SZ").to_string()})
    }
}

fn authorized(g: &mut Github, headers: &HeaderMap) -> Result<(), Box<Response>> {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}")) {
        return Ok(());
    }
    g.unauthorized += 1;
    Err(Box::new((StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response()))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response()
}

async fn user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    Json(json!({"login": BOT})).into_response()
}

async fn repository(State(s): State<Shared>, Path((owner, repo)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    Json(json!({"full_name": format!("{owner}/{repo}")})).into_response()
}

async fn list(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    let label = q.get("labels").cloned().unwrap_or_default();
    let since = q.get("since").map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
    let open_only = q.get("state").map(String::as_str).unwrap_or("open") == "open";
    let mut hits: Vec<&Issue> = g
        .issues
        .iter()
        .filter(|i| (label.is_empty() || i.labels.contains(&label)) && since.is_none_or(|t| i.updated >= t) && !(open_only && i.closed))
        .collect();
    hits.sort_by_key(|i| i.updated);
    let page: usize = q.get("page").map(|p| p.parse().unwrap()).unwrap_or(1);
    let per = 2;
    let body: Vec<Value> = hits.iter().skip((page - 1) * per).take(per).map(|i| g.issue_json(&owner, &repo, i)).collect();
    let more = hits.len() > page * per;
    let etag = format!("\"{}\"", body.iter().map(|i| format!("{}@{}", i["number"], i["updated_at"])).collect::<Vec<_>>().join(","));
    if page == 1 && headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        g.not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut res = Json(Value::Array(body)).into_response();
    res.headers_mut().insert("etag", etag.parse().unwrap());
    if more {
        let mut next = reqwest::Url::parse(&format!("{}/repos/{owner}/{repo}/issues", g.base)).unwrap();
        for (k, v) in q.iter().filter(|(k, _)| *k != "page") {
            next.query_pairs_mut().append_pair(k, v);
        }
        next.query_pairs_mut().append_pair("page", &(page + 1).to_string());
        let link = format!("<{next}>; rel=\"next\", <{}/repos/{owner}/{repo}/issues?page=99>; rel=\"last\"", g.base);
        res.headers_mut().insert("link", link.parse().unwrap());
    }
    res
}

async fn issue(
    State(s): State<Shared>,
    Path((owner, repo, n)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    let Some(i) = g.issues.iter().position(|i| i.number == n) else { return not_found() };
    if let Some(Json(b)) = body {
        if b["state"] == "closed" {
            g.issues[i].closed = true;
        }
        g.issues[i].updated = Utc::now();
    }
    let issue = g.issues[i].clone();
    Json(g.issue_json(&owner, &repo, &issue)).into_response()
}

async fn add_labels(
    State(s): State<Shared>,
    Path((_, _, n)): Path<(String, String, i64)>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    let Some(i) = g.issues.iter().position(|i| i.number == n) else { return not_found() };
    for l in b["labels"].as_array().into_iter().flatten().filter_map(|l| l.as_str()) {
        if !g.issues[i].labels.iter().any(|x| x == l) {
            g.issues[i].labels.push(l.to_string());
        }
    }
    g.issues[i].updated = Utc::now();
    Json(json!(g.issues[i].labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>())).into_response()
}

async fn remove_label(State(s): State<Shared>, Path((_, _, n, name)): Path<(String, String, i64, String)>, headers: HeaderMap) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    let Some(i) = g.issues.iter().position(|i| i.number == n) else { return not_found() };
    let Some(at) = g.issues[i].labels.iter().position(|l| *l == name) else {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Label does not exist"}))).into_response();
    };
    g.issues[i].labels.remove(at);
    g.issues[i].updated = Utc::now();
    Json(json!(g.issues[i].labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>())).into_response()
}

async fn comments(
    State(s): State<Shared>,
    Path((_, _, n)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    if !g.issues.iter().any(|i| i.number == n) {
        return not_found();
    }
    if let Some(Json(b)) = body {
        g.comment(n, BOT, b["body"].as_str().unwrap_or_default());
        let c = g.comments.last().unwrap().clone();
        return (StatusCode::CREATED, Json(Github::comment_json(&c))).into_response();
    }
    Json(json!(g.comments.iter().filter(|c| c.issue == n).map(Github::comment_json).collect::<Vec<_>>())).into_response()
}

async fn edit_comment(
    State(s): State<Shared>,
    Path((_, _, id)): Path<(String, String, i64)>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    let Some(i) = g.comments.iter().position(|c| c.id == id) else { return not_found() };
    g.comments[i].body = b["body"].as_str().unwrap_or_default().to_string();
    g.comments[i].edits += 1;
    let (c, issue) = (g.comments[i].clone(), g.comments[i].issue);
    g.touch(issue);
    Json(Github::comment_json(&c)).into_response()
}

async fn open_pull(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let mut g = s.lock().unwrap();
    if let Err(r) = authorized(&mut g, &headers) {
        return *r;
    }
    g.pulls.push(b.clone());
    let url = format!("https://github.example/{owner}/{repo}/pull/40");
    (StatusCode::CREATED, Json(json!({"number": 40, "html_url": url, "state": "open", "draft": false, "merged": false}))).into_response()
}

async fn pull(Path((owner, repo, n)): Path<(String, String, i64)>) -> Response {
    Json(json!({"number": n, "html_url": format!("https://github.example/{owner}/{repo}/pull/{n}"), "state": "open", "merged": false}))
        .into_response()
}

pub fn serve(shared: Shared) -> String {
    let app = axum::Router::new()
        .route("/user", get(user))
        .route("/repos/{owner}/{repo}", get(repository))
        .route("/repos/{owner}/{repo}/issues", get(list))
        .route("/repos/{owner}/{repo}/issues/{n}", get(issue).patch(issue))
        .route("/repos/{owner}/{repo}/issues/{n}/labels", post(add_labels))
        .route("/repos/{owner}/{repo}/issues/{n}/labels/{name}", delete(remove_label))
        .route("/repos/{owner}/{repo}/issues/{n}/comments", get(comments).post(comments))
        .route("/repos/{owner}/{repo}/issues/comments/{id}", patch(edit_comment))
        .route("/repos/{owner}/{repo}/pulls", post(open_pull))
        .route("/repos/{owner}/{repo}/pulls/{n}", get(pull))
        .with_state(shared.clone());
    let url = crate::harness::serve_fake(app);
    // The base goes into `Link` headers; set before any request can come.
    shared.lock().unwrap().base = url.clone();
    url
}
