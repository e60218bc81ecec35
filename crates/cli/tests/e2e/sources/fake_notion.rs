//! A fake Notion API on 127.0.0.1, answering the endpoints bosun uses as Notion
//! documents them (version 2026-03-11, the data-source model): the database with its
//! data source, the data source's schema and query (filter on a status property and
//! `last_edited_time`, ascending sort, `has_more`/`next_cursor` pagination, at most
//! two pages' worth per answer to make bosun follow the cursor), pages and their
//! Markdown, property updates (an unknown status option is a 400 `validation_error`),
//! comments. Edit times are to the minute, as Notion's are. Every request must carry
//! `Authorization: Bearer <token>` and `Notion-Version: 2026-03-11`; a 429 with
//! `Retry-After` can be served on demand.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};

pub const TOKEN: &str = "secret-token";
pub const DATABASE: &str = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";
pub const DATA_SOURCE: &str = "99999999-aaaa-4bbb-8ccc-dddddddddddd";
pub const BOT: &str = "bot-user-1";
const OPTIONS: &[&str] = &["Not started", "Ready", "In progress", "Needs input", "Review", "Done", "Failed"];

#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub status: String,
    pub agent: Option<String>,
    pub tags: Vec<String>,
    pub markdown: String,
    pub edited: DateTime<Utc>,
    pub in_trash: bool,
    /// The names in its Assignee (people) property.
    pub people: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: String,
    pub page: String,
    pub author: String,
    pub name: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// One request, as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
pub struct Notion {
    pub pages: Vec<Page>,
    pub comments: Vec<Comment>,
    pub requests: Vec<Request>,
    /// Requests without the right headers (they were refused).
    pub refused: Vec<String>,
    /// Answer the next this-many requests 429 with `Retry-After: 1`.
    pub limit_next: usize,
    /// Answer every page update 503 (Notion down for writes).
    pub fail_writes: bool,
    pub failed_writes: usize,
    pub rate_limited: usize,
    next_id: u64,
}

pub type Shared = Arc<Mutex<Notion>>;

/// Notion's edit times are to the minute.
fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap()
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Notion {
    /// Adds a page (as a person would in Notion); its id.
    pub fn add_page(&mut self, title: &str, status: &str, agent: Option<&str>, tags: &[&str], markdown: &str) -> String {
        self.next_id += 1;
        let id = format!("00000000-0000-4000-8000-{:012}", self.next_id);
        self.pages.push(Page {
            id: id.clone(),
            title: title.into(),
            status: status.into(),
            agent: agent.map(String::from),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            markdown: markdown.into(),
            edited: minute(Utc::now()),
            in_trash: false,
            people: Vec::new(),
        });
        id
    }

    /// A person assigns a page to someone.
    pub fn assign(&mut self, id: &str, name: &str) {
        let p = self.pages.iter_mut().find(|p| p.id == id).unwrap();
        p.people.push(name.into());
        p.edited = minute(Utc::now());
    }

    /// A person sets a page's status.
    pub fn set_status(&mut self, id: &str, status: &str) {
        let p = self.pages.iter_mut().find(|p| p.id == id).unwrap();
        p.status = status.into();
        p.edited = minute(Utc::now());
    }

    pub fn page(&self, id: &str) -> Page {
        self.pages.iter().find(|p| p.id == id).unwrap().clone()
    }

    /// A person comments on a page.
    pub fn add_comment(&mut self, page: &str, name: &str, text: &str) {
        self.next_id += 1;
        self.comments.push(Comment {
            id: format!("c-{}", self.next_id),
            page: page.into(),
            author: format!("user-{name}"),
            name: name.into(),
            text: text.into(),
            at: Utc::now(),
        });
    }

    pub fn bot_comments(&self, page: &str) -> Vec<String> {
        self.comments.iter().filter(|c| c.page == page && c.author == BOT).map(|c| c.text.clone()).collect()
    }

    fn page_json(p: &Page) -> Value {
        json!({
            "object": "page",
            "id": p.id,
            "created_time": ts(p.edited),
            "last_edited_time": ts(p.edited),
            "in_trash": p.in_trash,
            "archived": p.in_trash,
            "url": format!("https://www.notion.so/{}", p.id.replace('-', "")),
            "parent": {"type": "data_source_id", "data_source_id": DATA_SOURCE},
            "properties": {
                "Name": {"id": "title", "type": "title", "title": [{"type": "text", "text": {"content": p.title}, "plain_text": p.title}]},
                "Status": {"id": "st", "type": "status", "status": {"name": p.status}},
                "Agent": {"id": "ag", "type": "select", "select": p.agent.as_ref().map(|a| json!({"name": a}))},
                "Tags": {"id": "tg", "type": "multi_select", "multi_select": p.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>()},
                "Assignee": {"id": "as", "type": "people", "people": p.people.iter().enumerate().map(|(i, n)| json!({"object": "user", "id": format!("u-{i}"), "type": "person", "name": n})).collect::<Vec<_>>()},
            },
        })
    }

    fn comment_json(c: &Comment) -> Value {
        json!({
            "object": "comment",
            "id": c.id,
            "parent": {"type": "page_id", "page_id": c.page},
            "discussion_id": format!("d-{}", c.id),
            "created_time": ts(c.at),
            "last_edited_time": ts(c.at),
            "created_by": {"object": "user", "id": c.author},
            "display_name": {"type": "user", "resolved_name": c.name},
            "rich_text": [{"type": "text", "text": {"content": c.text}, "plain_text": c.text}],
        })
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"object": "error", "status": status.as_u16(), "code": code, "message": message}))).into_response()
}

/// Checks the headers and records the request; an error answer when refused.
fn admit(n: &mut Notion, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Value) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let version = headers.get("notion-version").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {TOKEN}") {
        n.refused.push(format!("{method} {}", uri.path()));
        return Some(error(StatusCode::UNAUTHORIZED, "unauthorized", "API token is invalid."));
    }
    if version != "2026-03-11" {
        n.refused.push(format!("{method} {} (version {version:?})", uri.path()));
        return Some(error(StatusCode::BAD_REQUEST, "missing_version", "Notion-Version header failed validation."));
    }
    if n.limit_next > 0 {
        n.limit_next -= 1;
        n.rate_limited += 1;
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "You have been rate limited. Please try again in a few minutes.");
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
        return Some(r);
    }
    n.requests.push(Request { method: method.to_string(), path: uri.path().to_string(), body: body.clone() });
    None
}

async fn me(State(s): State<Shared>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut n = s.lock().unwrap();
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &Value::Null) {
        return r;
    }
    Json(json!({"object": "user", "id": BOT, "type": "bot", "name": "bosun", "bot": {}})).into_response()
}

async fn database(State(s): State<Shared>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut n = s.lock().unwrap();
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &Value::Null) {
        return r;
    }
    if id != DATABASE {
        return error(StatusCode::NOT_FOUND, "object_not_found", &format!("Could not find database with ID: {id}."));
    }
    Json(json!({"object": "database", "id": DATABASE, "title": [{"plain_text": "Tasks"}], "data_sources": [{"id": DATA_SOURCE, "name": "Tasks"}]}))
        .into_response()
}

async fn data_source(State(s): State<Shared>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut n = s.lock().unwrap();
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &Value::Null) {
        return r;
    }
    if id != DATA_SOURCE {
        return error(StatusCode::NOT_FOUND, "object_not_found", "Could not find data source.");
    }
    let options: Vec<Value> = OPTIONS.iter().map(|o| json!({"name": o})).collect();
    Json(json!({
        "object": "data_source",
        "id": DATA_SOURCE,
        "properties": {
            "Name": {"id": "title", "name": "Name", "type": "title", "title": {}},
            "Status": {"id": "st", "name": "Status", "type": "status", "status": {"options": options}},
            "Agent": {"id": "ag", "name": "Agent", "type": "select", "select": {"options": []}},
            "Tags": {"id": "tg", "name": "Tags", "type": "multi_select", "multi_select": {"options": []}},
            "Assignee": {"id": "as", "name": "Assignee", "type": "people", "people": {}},
            "Due": {"id": "du", "name": "Due", "type": "date", "date": {}},
        },
    }))
    .into_response()
}

async fn query(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut n = s.lock().unwrap();
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &body) {
        return r;
    }
    if id != DATA_SOURCE {
        return error(StatusCode::NOT_FOUND, "object_not_found", "Could not find data source.");
    }
    // The filters bosun sends: the status property alone, or with last_edited_time.
    let (status, since) = match body["filter"].get("and") {
        Some(all) => (all[0].clone(), all[1]["last_edited_time"]["on_or_after"].as_str().map(String::from)),
        None => (body["filter"].clone(), None),
    };
    let Some(want) = status["status"]["equals"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "validation_error", "body.filter.status should be defined for a status property.");
    };
    let since = since.map(|s| DateTime::parse_from_rfc3339(&s).unwrap().with_timezone(&Utc));
    let mut hits: Vec<&Page> = n.pages.iter().filter(|p| !p.in_trash && p.status == want && since.is_none_or(|t| p.edited >= t)).collect();
    hits.sort_by_key(|p| p.edited);
    let start: usize = body["start_cursor"].as_str().map(|c| c.parse().unwrap()).unwrap_or(0);
    let size = body["page_size"].as_u64().unwrap_or(100).min(2) as usize;
    let results: Vec<Value> = hits.iter().skip(start).take(size).map(|p| Notion::page_json(p)).collect();
    let more = hits.len() > start + size;
    Json(json!({"object": "list", "type": "page_or_data_source", "results": results, "has_more": more,
        "next_cursor": if more { json!((start + size).to_string()) } else { Value::Null }}))
    .into_response()
}

async fn page(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let mut n = s.lock().unwrap();
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &body) {
        return r;
    }
    let Some(i) = n.pages.iter().position(|p| p.id == id) else {
        return error(StatusCode::NOT_FOUND, "object_not_found", &format!("Could not find page with ID: {id}."));
    };
    if method == Method::PATCH && n.fail_writes {
        n.failed_writes += 1;
        return error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "Notion is unavailable, please try again later.");
    }
    if method == Method::PATCH {
        let Some(name) = body["properties"]["Status"]["status"]["name"].as_str() else {
            return error(StatusCode::BAD_REQUEST, "validation_error", "body.properties.Status.status should be defined.");
        };
        if !OPTIONS.contains(&name) {
            return error(
                StatusCode::BAD_REQUEST,
                "validation_error",
                &format!("Invalid status option. Status option \"{name}\" does not exist."),
            );
        }
        n.pages[i].status = name.to_string();
        n.pages[i].edited = minute(Utc::now());
    }
    Json(Notion::page_json(&n.pages[i])).into_response()
}

async fn markdown(State(s): State<Shared>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let mut n = s.lock().unwrap();
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &Value::Null) {
        return r;
    }
    match n.pages.iter().find(|p| p.id == id) {
        Some(p) => Json(json!({"object": "page_markdown", "id": id, "markdown": p.markdown, "truncated": false, "unknown_block_ids": []}))
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "object_not_found", "Could not find page."),
    }
}

async fn comments(
    State(s): State<Shared>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let mut n = s.lock().unwrap();
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    if let Some(r) = admit(&mut n, &method, &uri, &headers, &body) {
        return r;
    }
    if method == Method::POST {
        let Some(page) = body["parent"]["page_id"].as_str().map(String::from) else {
            return error(StatusCode::BAD_REQUEST, "validation_error", "body.parent.page_id should be defined.");
        };
        let Some(text) = body["markdown"].as_str().map(String::from) else {
            return error(StatusCode::BAD_REQUEST, "validation_error", "body.rich_text or body.markdown should be defined.");
        };
        n.next_id += 1;
        let c = Comment { id: format!("c-{}", n.next_id), page, author: BOT.into(), name: "bosun".into(), text, at: Utc::now() };
        let out = Notion::comment_json(&c);
        n.comments.push(c);
        return Json(out).into_response();
    }
    let Some(block) = q.get("block_id") else {
        return error(StatusCode::BAD_REQUEST, "validation_error", "block_id should be defined.");
    };
    let list: Vec<Value> = n.comments.iter().filter(|c| &c.page == block).map(Notion::comment_json).collect();
    Json(json!({"object": "list", "results": list, "has_more": false, "next_cursor": null})).into_response()
}

/// Serves the fake on a free port; its base URL.
pub fn serve(shared: Shared) -> String {
    crate::harness::serve_fake(
        axum::Router::new()
            .route("/v1/users/me", get(me))
            .route("/v1/databases/{id}", get(database))
            .route("/v1/data_sources/{id}", get(data_source))
            .route("/v1/data_sources/{id}/query", post(query))
            .route("/v1/pages/{id}", get(page).patch(page))
            .route("/v1/pages/{id}/markdown", get(markdown))
            .route("/v1/comments", get(comments).post(comments))
            .with_state(shared),
    )
}
