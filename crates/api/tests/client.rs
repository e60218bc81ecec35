//! The typed client against a tiny in-test server with canned answers: what it sends
//! (paths, queries, JSON bodies with their content type), how it decodes answers and
//! streams, and how every kind of failure maps to a `ClientError`. (The CLI's
//! end-to-end tests run it against the real daemon.)

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bosun_api::client::{Client, ClientError, TaskChange, Until};
use bosun_api::{AnswerRequest, Delivery, MergeRequest, RebaseOutcome, RetryRequest, SayRequest, TaskQuery};
use bosun_core::{EventKind, NewTask, TaskStatus};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    content_type: Option<String>,
    accept: Option<String>,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn task_json(id: i64, status: &str) -> Value {
    json!({
        "id": id, "title": "t", "body": "", "status": status, "status_reason": null, "agent": null, "repo": null,
        "base": null, "branch": null, "worktree": null, "tags": [], "priority": 0, "after": [], "pr": null,
        "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z", "runs": []
    })
}

fn event_json(seq: i64, text: &str) -> Value {
    json!({"task_id": 7, "run_id": 1, "seq": seq, "ts": "2025-01-01T00:00:00Z", "source": "agent", "type": "message", "text": text})
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn sse(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// The canned answers, by path.
async fn answer(State(log): State<Log>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_else(|_| Bytes::new());
    let headers: &HeaderMap = &parts.headers;
    let text = |h| headers.get(h).and_then(|v: &header::HeaderValue| v.to_str().ok()).map(str::to_string);
    let uri: &Uri = &parts.uri;
    log.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        content_type: text(header::CONTENT_TYPE),
        accept: text(header::ACCEPT),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    match uri.path() {
        "/api/health" => json_answer(StatusCode::OK, json!({"ok": true, "version": "9.9.9"})),
        "/api/tasks" if parts.method == Method::GET => json_answer(StatusCode::OK, json!([task_json(1, "queued"), task_json(2, "review")])),
        "/api/tasks" => json_answer(StatusCode::CREATED, task_json(3, "queued")),
        "/api/tasks/7/stop" | "/api/tasks/7/interrupt" | "/api/tasks/7/retry" => json_answer(StatusCode::OK, task_json(7, "stopped")),
        "/api/tasks/7/rebase" => json_answer(StatusCode::OK, json!({"outcome": "rebased", "head": "abc123"})),
        "/api/tasks/7/say" => json_answer(StatusCode::OK, json!({"delivered": "at_start"})),
        "/api/tasks/7/merge" => {
            json_answer(StatusCode::CONFLICT, json!({"error": {"code": "conflict", "message": "cannot merge a task that is running"}}))
        }
        "/api/tasks/7/events" if parts.uri.query().is_some_and(|q| q.contains("limit")) => {
            json_answer(StatusCode::OK, json!([event_json(4, "a"), event_json(5, "b")]))
        }
        "/api/tasks/7/events" => sse(format!(
            ": keep-alive\n\nid: 1\nevent: message\ndata: {}\n\nid: 2\nevent: message\ndata: {}\n\n",
            event_json(1, "hello"),
            event_json(2, "bye")
        )),
        "/api/tasks/8/events" => sse("event: message\ndata: {\"not\": \"an event\"}\n\n".into()),
        "/api/events" => {
            sse(format!("event: task\ndata: {}\n\nevent: hello\ndata: {{}}\n\nevent: resync\ndata: {{}}\n\n", task_json(3, "running")))
        }
        "/api/approvals" => json_answer(StatusCode::OK, json!({"not": "a list"})),
        "/api/repos" => (StatusCode::BAD_GATEWAY, "<html>proxy error</html>").into_response(),
        "/api/tasks/99" | "/api/tasks/99/events" => {
            json_answer(StatusCode::NOT_FOUND, json!({"error": {"code": "not_found", "message": "task 99 not found"}}))
        }
        _ => (StatusCode::NOT_FOUND, "nothing here").into_response(),
    }
}

async fn server() -> (Client, Log) {
    let log: Log = Arc::default();
    let app = Router::new().fallback(answer).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Client::new(&format!("http://{addr}/")).unwrap(), log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().expect("a request reached the server")
}

#[tokio::test]
async fn reads_decode_into_their_types() {
    let (client, log) = server().await;
    assert!(!client.base_url().ends_with('/'));

    let health = client.health().await.unwrap();
    assert!(health.ok);
    assert_eq!(health.version, "9.9.9");
    let seen = last(&log);
    assert_eq!((seen.method, seen.path.as_str(), seen.accept.as_deref()), (Method::GET, "/api/health", Some("application/json")));

    let query = TaskQuery { status: Some("running,review".into()), repo: Some("/r s".into()), limit: Some(5), ..TaskQuery::default() };
    let tasks = client.list_tasks(&query).await.unwrap();
    assert_eq!(tasks.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>(), [(1, TaskStatus::Queued), (2, TaskStatus::Review)]);
    assert_eq!(last(&log).query.as_deref(), Some("status=running%2Creview&repo=%2Fr+s&limit=5"));

    client.list_tasks(&TaskQuery::default()).await.unwrap();
    assert_eq!(last(&log).query, None, "an empty query sends no parameters");

    let events = client.events(7, 3, 1000).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
    let seen = last(&log);
    assert_eq!((seen.path.as_str(), seen.query.as_deref()), ("/api/tasks/7/events", Some("after=3&limit=1000")));
    assert_eq!(seen.accept.as_deref(), Some("application/json"), "the JSON page, not the SSE stream");

    client.agents(Some("/a repo")).await.unwrap_err();
    assert_eq!(last(&log).query.as_deref(), Some("repo=%2Fa+repo"));
    client.agents(None).await.unwrap_err();
    assert_eq!(last(&log).query, None);
}

#[tokio::test]
async fn state_changes_always_send_a_json_body() {
    let (client, log) = server().await;
    let posted = |path: &str| {
        let seen = last(&log);
        assert_eq!(seen.method, Method::POST, "{path}");
        assert_eq!(seen.path, path);
        assert_eq!(seen.content_type.as_deref(), Some("application/json"), "{path}");
        serde_json::from_str::<Value>(&seen.body).unwrap_or_else(|e| panic!("{path} sent {:?}: {e}", seen.body))
    };

    assert_eq!(client.stop(7).await.unwrap().status, TaskStatus::Stopped);
    assert_eq!(posted("/api/tasks/7/stop"), json!({}));
    client.interrupt(7).await.unwrap();
    assert_eq!(posted("/api/tasks/7/interrupt"), json!({}));
    client.retry(7, &RetryRequest::default()).await.unwrap();
    assert_eq!(posted("/api/tasks/7/retry"), json!({}));
    client.retry(7, &RetryRequest { agent: Some("other".into()), model: None }).await.unwrap();
    assert_eq!(posted("/api/tasks/7/retry"), json!({"agent": "other"}));

    let rebased = client.rebase(7).await.unwrap();
    assert_eq!((rebased.outcome, rebased.head.as_deref()), (RebaseOutcome::Rebased, Some("abc123")));
    assert_eq!(posted("/api/tasks/7/rebase"), json!({}));

    let said = client.say(7, &SayRequest { text: "hi".into(), from: Some("ann".into()), ..Default::default() }).await.unwrap();
    assert_eq!(said.delivered, Delivery::AtStart);
    assert_eq!(posted("/api/tasks/7/say"), json!({"text": "hi", "from": "ann"}));

    let new = NewTask { title: "do it".into(), tags: vec!["x".into()], after: vec![1], ..NewTask::default() };
    let created = client.create_task(&new).await.unwrap();
    assert_eq!(created.id, 3, "201 Created is a success");
    assert_eq!(posted("/api/tasks")["title"], "do it");

    client.deny(7, &AnswerRequest { reason: Some("no".into()), ..AnswerRequest::default() }).await.unwrap_err();
    assert_eq!(posted("/api/tasks/7/deny"), json!({"always": false, "reason": "no"}));
}

#[tokio::test]
async fn errors_say_what_went_wrong() {
    let (client, _log) = server().await;

    // bosun's error body: status, code and message; shown as the message alone.
    let err = client.merge(7, &MergeRequest { strategy: Some("squash".into()), ..Default::default() }).await.unwrap_err();
    match &err {
        ClientError::Api { status, code, message } => {
            assert_eq!(
                (*status, code.as_str(), message.as_str()),
                (StatusCode::CONFLICT, "conflict", "cannot merge a task that is running")
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert_eq!(err.to_string(), "cannot merge a task that is running");
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some("conflict")));

    let err = client.task(99).await.unwrap_err();
    assert_eq!((err.status(), err.code(), err.to_string().as_str()), (Some(StatusCode::NOT_FOUND), Some("not_found"), "task 99 not found"));

    // An error status without that body: say which status came back.
    let err = client.gc(&Default::default()).await.unwrap_err();
    assert!(matches!(err, ClientError::Status { status: StatusCode::NOT_FOUND }), "{err:?}");
    assert_eq!(err.to_string(), "not found (is the server a bosun daemon?)");
    let err = client.repos().await.unwrap_err();
    assert!(matches!(err, ClientError::Status { status: StatusCode::BAD_GATEWAY }), "{err:?}");
    assert_eq!(err.to_string(), "the daemon answered 502 Bad Gateway");
    assert_eq!(err.code(), None);

    // A success whose body is not the type asked for.
    let err = client.approvals(None).await.unwrap_err();
    assert!(matches!(err, ClientError::Undecodable(_)), "{err:?}");
    assert!(err.to_string().starts_with("unexpected answer from the daemon: invalid type: map"), "{err}");

    // The SSE stream answers errors the same way.
    let err = client.follow_events(99, 0, Until::Settled).await.err().expect("an error");
    assert_eq!(err.to_string(), "task 99 not found");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_with_a_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client.health().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("cannot reach the bosun daemon at http://{addr}: is `bosun serve` running? (set --server or BOSUN_URL)")
    );
    // Streams too.
    assert!(matches!(client.task_changes().await.err(), Some(ClientError::Unreachable { .. })));
}

#[test]
fn base_url_must_be_http() {
    for url in ["127.0.0.1:7777", "ftp://x", ""] {
        let err = Client::new(url).unwrap_err();
        assert!(matches!(err, ClientError::InvalidUrl { .. }), "{url}: {err:?}");
    }
    assert_eq!(Client::new("https://bosun.example///").unwrap().base_url(), "https://bosun.example");
}

#[tokio::test]
async fn event_streams_are_typed() {
    let (client, log) = server().await;

    let events: Vec<_> = client.follow_events(7, 0, Until::Settled).await.unwrap().collect().await;
    let texts: Vec<String> = events
        .into_iter()
        .map(|e| match e.unwrap().kind {
            EventKind::Message { text, .. } => text,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(texts, ["hello", "bye"]);
    let seen = last(&log);
    assert_eq!((seen.query.as_deref(), seen.accept.as_deref()), (Some("after=0&until=settled"), Some("text/event-stream")));

    let _stream = client.follow_events(7, 12, Until::Closed).await.unwrap();
    assert_eq!(last(&log).query.as_deref(), Some("after=12"));

    let mut bad = client.follow_events(8, 0, Until::Settled).await.unwrap();
    let err = bad.next().await.unwrap().unwrap_err();
    assert!(matches!(err, ClientError::BadEvent(_)), "{err:?}");
    assert!(err.to_string().starts_with("bad event from the daemon: "), "{err}");

    let changes: Vec<_> = client.task_changes().await.unwrap().map(Result::unwrap).collect().await;
    assert!(matches!(&changes[..], [TaskChange::Task(t), TaskChange::Resync] if t.id == 3), "{changes:?}");
}
