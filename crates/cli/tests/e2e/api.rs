//! The HTTP API directly: bad input gets 4xx JSON errors, SSE replays then follows,
//! the OpenAPI document describes the routes.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::harness::World;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("every answer is JSON");
    (status, body)
}

#[test]
fn bad_input_gets_clear_4xx_json() {
    let mut w = World::new("app");
    w.start(&[]);
    let url = w.url.clone();
    let repo = w.repo.to_str().unwrap().to_string();
    runtime().block_on(async move {
        // No connection reuse: the server may close a connection whose body it refused (413).
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let post = |body: Value| http.post(format!("{url}/api/tasks")).json(&body);
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            (post(json!({"title": 5})), 422, "title"),
            (post(json!({"title": "x", "bogus": true})), 422, "bogus"),
            (post(json!({"title": "x", "priority": "high"})), 422, "priority"),
            (post(json!({"title": ""})), 400, "title must not be empty"),
            (post(json!({"title": "x", "repo": "relative/path"})), 400, "absolute"),
            (post(json!({"title": "x", "repo": "/nonexistent/dir"})), 400, "not a git repository"),
            (post(json!({"title": "x", "repo": repo, "base": "nope"})), 400, "does not exist"),
            (post(json!({"title": "x", "tags": ["a b"]})), 400, "invalid tag"),
            (http.post(format!("{url}/api/tasks")).header("content-type", "application/json").body("{not json"), 400, ""),
            (http.post(format!("{url}/api/tasks")).body("title=x"), 415, ""),
            (
                http.post(format!("{url}/api/tasks")).header("content-type", "application/json").body(vec![b' '; 2 << 20]),
                413,
                "",
            ),
            (http.get(format!("{url}/api/tasks/999")), 404, "task 999 not found"),
            (http.get(format!("{url}/api/tasks/abc")), 400, ""),
            (http.get(format!("{url}/api/tasks/99999999999999999999999")), 400, ""),
            (http.get(format!("{url}/api/tasks?status=bogus")), 400, "unknown status `bogus`"),
            (http.get(format!("{url}/api/tasks?limit=-1")), 400, "limit"),
            (http.post(format!("{url}/api/tasks/999/stop")).json(&json!({})), 404, ""),
            (http.post(format!("{url}/api/tasks/999/stop")), 415, "Content-Type: application/json"),
            (http.post(format!("{url}/api/tasks/999/merge")).json(&json!({"strategy": "octopus"})), 400, "unknown strategy"),
            (http.get(format!("{url}/api/nope")), 404, "no such endpoint"),
        ];
        for (i, (req, status, needle)) in cases.into_iter().enumerate() {
            let (got, body) = call(req).await;
            assert_eq!(got, status, "case {i}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("case {i}: no error message: {body}"));
            assert!(message.contains(needle), "case {i}: {message:?} lacks {needle:?}");
            assert!(body["error"]["code"].is_string());
        }
        // Nothing was created by any of them.
        let (_, tasks) = call(http.get(format!("{url}/api/tasks"))).await;
        assert_eq!(tasks, json!([]));
        // The daemon is still fine.
        let (status, health) = call(http.get(format!("{url}/api/health"))).await;
        assert_eq!((status, health["ok"].as_bool()), (200, Some(true)));
    });
}

/// Any web page the user visits can send requests to 127.0.0.1: none of them may
/// change anything, and a page reached by DNS rebinding reads nothing.
#[test]
fn foreign_pages_cannot_drive_the_daemon() {
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"write": {"path": "a.txt", "content": "a"}})]);
    w.start(&[]);
    let id = w.add("Write a", "quick");
    w.wait_status(id, "review");
    let url = w.url.clone();
    let port = url.rsplit(':').next().unwrap().to_string();
    runtime().block_on(async move {
        let http = reqwest::Client::new();
        let merge = || http.post(format!("{url}/api/tasks/{id}/merge"));
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            // A form or a bodiless fetch from a page: no preflight, so it must be refused here.
            (merge().header("origin", "http://evil.example"), 403, "cross-origin"),
            (merge().header("origin", "http://evil.example").header("content-type", "text/plain").body("{}"), 403, "cross-origin"),
            (merge().header("content-type", "text/plain").body("{}"), 415, "application/json"),
            (merge().header("origin", "null").json(&json!({})), 403, "cross-origin"),
            // DNS rebinding: the page's own name in Host.
            (merge().header("host", format!("evil.example:{port}")).json(&json!({})), 403, "evil.example"),
            (http.get(format!("{url}/api/tasks")).header("host", "evil.example"), 403, "host name"),
            (http.get(format!("{url}/api/events")).header("origin", "https://evil.example"), 403, "cross-origin"),
        ];
        for (i, (req, status, needle)) in cases.into_iter().enumerate() {
            let (got, body) = call(req).await;
            assert_eq!(got, status, "case {i}: {body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(needle), "case {i}: {message:?} lacks {needle:?}");
        }
        let (_, task) = call(http.get(format!("{url}/api/tasks/{id}"))).await;
        assert_eq!(task["status"], "review", "nothing a foreign page sent merged the task");
        // The board itself (same origin) and the CLI (no origin) still work.
        let (status, body) = call(merge().header("origin", url.as_str()).json(&json!({}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["task"]["status"], "done");
    });
}

#[test]
fn agent_env_values_are_never_served() {
    let mut w = World::new("app");
    std::fs::create_dir_all(w.path("config/agents")).unwrap();
    std::fs::write(
        w.path("config/agents/keyed.md"),
        "---\nname: keyed\nruntime: command\ncommand: [\"true\"]\nenv:\n  OPENAI_API_KEY: sk-secret-123\n---\nHi.\n",
    )
    .unwrap();
    w.start(&[]);
    let url = w.url.clone();
    runtime().block_on(async move {
        let resp = reqwest::get(format!("{url}/api/agents")).await.unwrap();
        let text = resp.text().await.unwrap();
        assert!(!text.contains("sk-secret-123"), "a secret was served: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        let keyed = body["agents"].as_array().unwrap().iter().find(|a| a["name"] == "keyed").expect("the profile is listed");
        assert_eq!(keyed["env"]["OPENAI_API_KEY"], "********", "the name is shown, the value masked");
    });
}

#[test]
fn openapi_describes_every_route() {
    let mut w = World::new("app");
    w.start(&[]);
    let url = w.url.clone();
    runtime().block_on(async move {
        let (status, doc) = call(reqwest::Client::new().get(format!("{url}/api/openapi.json"))).await;
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/tasks",
            "/api/tasks/{id}",
            "/api/tasks/{id}/stop",
            "/api/tasks/{id}/retry",
            "/api/tasks/{id}/merge",
            "/api/tasks/{id}/diff",
            "/api/tasks/{id}/events",
            "/api/events",
            "/api/health",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        assert!(doc["components"]["schemas"]["Task"].is_object());
    });
}

/// Reads SSE `data:` lines of one stream until `n` events arrived.
async fn sse_events(resp: reqwest::Response, n: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut stream = resp.bytes_stream();
    let mut id = String::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.expect("an SSE chunk in time");
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
        while let Some(pos) = buf.find('\n') {
            let line: String = buf.drain(..=pos).collect();
            let line = line.trim_end();
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                out.push((id.clone(), serde_json::from_str(v.trim()).unwrap()));
            }
        }
    }
    out
}

#[test]
fn sse_replays_then_follows_live() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent(
        "talker",
        None,
        &[json!({"say": "one"}), json!({"say": "two"}), json!({"wait_file": gate}), json!({"say": "three"})],
    );
    w.start(&[]);
    let url = w.url.clone();
    let id = w.add("Talk", "talker");
    crate::harness::wait_for("two messages", || {
        (w.events(id).iter().filter(|e| e["type"] == "message").count() == 2).then_some(())
    });
    let gate2 = gate.clone();
    runtime().block_on(async move {
        let http = reqwest::Client::new();
        let all_changes = http.get(format!("{url}/api/events")).send().await.unwrap();
        // From the start: replay (status, one, two), then live (three, ...).
        let resp = http.get(format!("{url}/api/tasks/{id}/events")).send().await.unwrap();
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let follower = tokio::spawn(sse_events(resp, 4));
        // Resume after seq 2 with Last-Event-ID: starts at "two".
        let resumed = http.get(format!("{url}/api/tasks/{id}/events")).header("last-event-id", "2").send().await.unwrap();
        let resumed = tokio::spawn(sse_events(resumed, 2));
        std::fs::write(&gate2, "").unwrap();
        let got = follower.await.unwrap();
        let texts: Vec<&str> = got.iter().map(|(_, e)| e["text"].as_str().unwrap_or("-")).collect();
        assert_eq!(texts, vec!["-", "one", "two", "three"]);
        assert_eq!(got.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), vec!["1", "2", "3", "4"]);
        let got = resumed.await.unwrap();
        assert_eq!(got[0].1["text"], "two");
        assert_eq!(got[1].1["text"], "three");
        // The global stream saw the task change state.
        let changes = sse_events(all_changes, 1).await;
        assert_eq!(changes[0].1["id"], id);
    });
    w.wait_status(id, "review");
}
