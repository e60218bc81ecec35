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
    let token = w.token();
    runtime().block_on(async move {
        // No connection reuse: the server may close a connection whose body it refused (413).
        let http = crate::harness::authed_builder(&token).pool_max_idle_per_host(0).build().unwrap();
        let post = |body: Value| http.post(format!("{url}/api/tasks")).json(&body);
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            (post(json!({"title": 5})), 422, "invalid request body: title: invalid type"),
            (post(json!({"title": "x", "bogus": true})), 422, "bogus"),
            (post(json!({"title": "x", "priority": "high"})), 422, "priority"),
            (post(json!({"title": ""})), 400, "title must not be empty"),
            (post(json!({"title": "x", "repo": "relative/path"})), 400, "absolute"),
            (post(json!({"title": "x", "repo": "/nonexistent/dir"})), 400, "not a git repository"),
            (post(json!({"title": "x", "repo": repo, "base": "nope"})), 400, "does not exist"),
            (post(json!({"title": "x", "tags": ["a b"]})), 400, "invalid tag"),
            (
                http.post(format!("{url}/api/tasks")).header("content-type", "application/json").body("{not json"),
                400,
                "the request body is not valid JSON",
            ),
            (http.post(format!("{url}/api/tasks")).body("title=x"), 415, "Content-Type: application/json"),
            (http.post(format!("{url}/api/tasks")).header("content-type", "application/json").body(vec![b' '; 2 << 20]), 413, "too large"),
            (http.get(format!("{url}/api/tasks/999")), 404, "task 999 not found"),
            (http.get(format!("{url}/api/tasks/abc")), 400, "`abc` is not a task id"),
            (http.get(format!("{url}/api/tasks/99999999999999999999999")), 400, "is not a task id"),
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
            // Our own words, not the framework's.
            assert!(!message.contains("Failed to") && !message.contains("Invalid URL"), "case {i}: {message:?}");
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
    let token = w.token();
    runtime().block_on(async move {
        let http = crate::harness::authed(&token);
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
            // Our own words, not the framework's.
            assert!(!message.contains("Failed to") && !message.contains("Invalid URL"), "case {i}: {message:?}");
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
    let token = w.token();
    runtime().block_on(async move {
        let resp = crate::harness::authed(&token).get(format!("{url}/api/agents")).send().await.unwrap();
        let text = resp.text().await.unwrap();
        assert!(!text.contains("sk-secret-123"), "a secret was served: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        let keyed = body["agents"].as_array().unwrap().iter().find(|a| a["name"] == "keyed").expect("the profile is listed");
        assert_eq!(keyed["env"]["OPENAI_API_KEY"], "********", "the name is shown, the value masked");
    });
}

/// Every route the server serves, as (method, path). Kept by hand on purpose: a route
/// added to the server but not here (or not to the OpenAPI document) fails the test.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/tasks"),
    ("post", "/api/tasks"),
    ("get", "/api/tasks/{id}"),
    ("post", "/api/tasks/{id}/stop"),
    ("post", "/api/tasks/{id}/after"),
    ("post", "/api/tasks/{id}/retry"),
    ("post", "/api/tasks/{id}/edit"),
    ("get", "/api/tasks/{id}/deliverables"),
    ("get", "/api/tasks/{id}/deliverables/{path}"),
    ("post", "/api/tasks/{id}/accept"),
    ("post", "/api/tasks/{id}/merge"),
    ("get", "/api/tasks/{id}/diff"),
    ("get", "/api/tasks/{id}/files"),
    ("get", "/api/tasks/{id}/files/diff"),
    ("post", "/api/tasks/{id}/rebase"),
    ("post", "/api/tasks/{id}/rm"),
    ("post", "/api/tasks/{id}/discard"),
    ("get", "/api/tasks/{id}/loss"),
    ("post", "/api/tasks/{id}/pr"),
    ("post", "/api/tasks/{id}/say"),
    ("post", "/api/tasks/{id}/interrupt"),
    ("post", "/api/tasks/{id}/reply"),
    ("post", "/api/tasks/{id}/approve"),
    ("post", "/api/tasks/{id}/deny"),
    ("get", "/api/tasks/{id}/events"),
    ("get", "/api/approvals"),
    ("get", "/api/agents"),
    ("post", "/api/route/explain"),
    ("get", "/api/costs"),
    ("get", "/api/budgets"),
    ("post", "/api/tasks/{id}/budget"),
    ("get", "/api/rules"),
    ("delete", "/api/rules/{id}"),
    ("post", "/api/gc"),
    ("post", "/api/archive"),
    ("get", "/api/repos"),
    ("get", "/api/events"),
    ("get", "/api/notify/channels"),
    ("post", "/api/notify/channels"),
    ("get", "/api/sources"),
    ("post", "/api/sources"),
    ("delete", "/api/sources/{id}"),
    ("post", "/api/sources/{id}/sync"),
    ("get", "/api/sources/{id}/verification-token"),
    ("delete", "/api/notify/channels/{id}"),
    ("post", "/api/notify/test"),
    ("get", "/api/push/key"),
    ("post", "/api/push/subscriptions"),
    ("delete", "/api/push/subscriptions"),
    ("post", "/api/login"),
    ("post", "/api/logout"),
    ("get", "/api/me"),
    ("post", "/api/tokens"),
    ("get", "/api/devices"),
    ("delete", "/api/devices/{id}"),
    ("post", "/api/pairings"),
];

/// What the router's fallback says for a path no route serves.
const FALLBACK: &str = "no such endpoint";

/// Sends `method path` (`{id}` = 999, a task that does not exist; POSTs and DELETEs with `{}`) and
/// says whether a route served it: neither the fallback's 404 nor a 405.
async fn served(http: &reqwest::Client, url: &str, method: &str, path: &str) -> Result<u16, String> {
    let full = format!("{url}{}", path.replace("{id}", "999"));
    let req = match method {
        "get" => http.get(&full),
        "post" => http.post(&full).json(&json!({})),
        "delete" => http.delete(&full).json(&json!({})),
        other => panic!("no such method in ROUTES: {other}"),
    };
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let stream = resp.headers().get("content-type").is_some_and(|v| v == "text/event-stream");
    // An event stream never ends: its 200 is the answer, its body is not read.
    let body = if stream { String::new() } else { resp.text().await.unwrap() };
    if status == 405 || (status == 404 && body.contains(FALLBACK)) { Err(format!("{method} {path}: {status} {body}")) } else { Ok(status) }
}

#[test]
fn openapi_describes_every_route() {
    let mut w = World::new("app");
    w.start(&[]);
    let url = w.url.clone();
    let token = w.token();
    runtime().block_on(async move {
        let http = crate::harness::authed(&token);
        let (status, doc) = call(http.get(format!("{url}/api/openapi.json"))).await;
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(doc["components"]["schemas"]["Task"].is_object());

        // The document names exactly the routes above, each with its method.
        const METHODS: [&str; 8] = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())) {
                documented.push((method.clone(), path.clone()));
            }
        }
        let known: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        let missing: Vec<_> = known.iter().filter(|r| !documented.contains(r)).collect();
        let unknown: Vec<_> = documented.iter().filter(|r| !known.contains(r)).collect();
        assert!(missing.is_empty(), "in ROUTES but not in /api/openapi.json: {missing:?}");
        assert!(unknown.is_empty(), "documented but not in this test's ROUTES (add it here): {unknown:?}");
        assert_eq!(documented.len(), ROUTES.len(), "no route twice: {documented:?}");
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| METHODS.contains(&k.as_str())) {
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} documents its answers");
            }
        }

        // Each documented route is really served with its method.
        for (method, path) in ROUTES {
            if let Err(e) = served(&http, &url, method, path).await {
                panic!("documented but not served: {e}");
            }
        }
        // The check above can tell: an unknown path gets the fallback, a wrong method a 405.
        assert!(served(&http, &url, "get", "/api/nope").await.is_err());
        assert!(served(&http, &url, "get", "/api/tasks/{id}/stop").await.is_err());
        assert!(served(&http, &url, "post", "/api/health").await.is_err());
    });
}

/// An ask is answered once: a second answer, with the same approval id or the task's
/// "oldest pending", is a 409 saying why, and the first answer stands.
#[test]
fn answering_an_approval_twice_is_a_conflict() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent_with(
        "careful",
        "interactive: true\n",
        &[
            json!({"read_prompt": true}),
            json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": "rm -rf build"}}),
            // The run stays alive after the answer: the second one meets a live run.
            json!({"wait_file": gate}),
        ],
    );
    w.start(&[]);
    let id = w.add("Careful work", "careful");
    w.wait_status(id, "needs_input");
    let url = w.url.clone();
    let token = w.token();
    let aid = runtime().block_on(async {
        let http = crate::harness::authed(&token);
        let (status, pending) = call(http.get(format!("{url}/api/approvals"))).await;
        assert_eq!(status, 200);
        let pending = pending.as_array().unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!((pending[0]["task_id"].as_i64(), pending[0]["request_id"].as_str()), (Some(id), Some("a1")));
        let aid = pending[0]["id"].as_i64().unwrap();
        let answer = |verb: &str, body: Value| http.post(format!("{url}/api/tasks/{id}/{verb}")).json(&body);

        let (status, first) = call(answer("approve", json!({"id": aid}))).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!((first["id"].as_i64(), first["status"].as_str()), (Some(aid), Some("allowed")));

        for (verb, body, needle) in [
            ("approve", json!({"id": aid}), "already answered"),
            ("deny", json!({"id": aid, "reason": "changed my mind"}), "already answered"),
            ("approve", json!({}), "no pending approval"),
        ] {
            let (status, err) = call(answer(verb, body.clone())).await;
            assert_eq!(status, 409, "{verb} {body}: {err}");
            assert_eq!(err["error"]["code"], "conflict", "{err}");
            let message = err["error"]["message"].as_str().unwrap_or_else(|| panic!("no message: {err}"));
            assert!(message.contains(needle), "{verb} {body}: {message:?} lacks {needle:?}");
        }
        let (_, pending) = call(http.get(format!("{url}/api/approvals"))).await;
        assert_eq!(pending, json!([]));
        aid
    });
    assert!(aid > 0);
    // The agent heard one answer, the first; the log holds one answer, by the user.
    crate::harness::wait_for("the agent to hear the answer", || {
        w.events(id).iter().any(|e| e["type"] == "message" && e["text"] == "approved").then_some(())
    });
    std::fs::write(&gate, "").unwrap();
    w.wait_status(id, "review");
    let events = w.events(id);
    let answers: Vec<&Value> = events.iter().filter(|e| e["type"] == "approval").collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(
        (answers[0]["id"].as_str(), answers[0]["allow"].as_bool(), answers[0]["by"].as_str()),
        (Some("a1"), Some(true), Some("user"))
    );
    assert!(!events.iter().any(|e| e["type"] == "message" && e["text"].as_str().is_some_and(|t| t.starts_with("denied"))));
}

/// GitHub unreachable (a port nothing listens on) is a 502 naming GitHub, not a 409:
/// the request was fine, a service bosun depends on failed.
#[test]
fn github_down_is_a_bad_gateway() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let api = format!("http://127.0.0.1:{port}");
    let mut w = World::new("app");
    let bare = w.path("remote.git");
    crate::harness::git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    crate::harness::git(&w.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    std::fs::create_dir_all(w.repo.join(".bosun")).unwrap();
    std::fs::write(w.repo.join(".bosun/config.toml"), format!("[github]\nrepo = \"acme/app\"\napi = \"{api}\"\n")).unwrap();
    crate::harness::git(&w.repo, &["add", "."]);
    crate::harness::git(&w.repo, &["commit", "-qm", "bosun config"]);
    w.agent("worker", None, &[json!({"write": {"path": "fix.txt", "content": "fixed\n"}})]);
    w.start_with_env(&[], &[("GITHUB_TOKEN", "test-token")]);
    let id = w.add("Fix it", "worker");
    w.wait_status(id, "review");
    let url = w.url.clone();
    let token = w.token();
    runtime().block_on(async {
        let http = crate::harness::authed(&token);
        for body in [json!({}), json!({"draft": true})] {
            let (status, err) = call(http.post(format!("{url}/api/tasks/{id}/pr")).json(&body)).await;
            assert_eq!(status, 502, "{body}: {err}");
            assert_eq!(err["error"]["code"], "bad_gateway", "{err}");
            let message = err["error"]["message"].as_str().unwrap();
            assert!(message.contains("GitHub") && message.contains(&api), "names GitHub and where it was sought: {message}");
        }
    });
    let t = w.task(id);
    assert!(t["pr"].is_null(), "no PR recorded: {t}");
    assert_eq!(t["status"], "review");
    // The CLI passes the reason on.
    let out = w.try_bosun(&["pr", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GitHub"), "{out:?}");
}

/// A task that does not exist is a 404 with a JSON reason, for reads and for every verb
/// (each sent a body it would accept, so the 404 is about the task).
#[test]
fn an_unknown_task_is_404_for_every_verb() {
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"say": "hi"})]);
    w.start(&[]);
    // One real task, so 999 is unknown among known ones.
    let real = w.add("Real", "quick");
    w.wait_status(real, "review");
    let url = w.url.clone();
    let token = w.token();
    runtime().block_on(async move {
        let http = crate::harness::authed(&token);
        let get = |path: &str| http.get(format!("{url}/api/tasks/999{path}"));
        let post = |verb: &str, body: Value| http.post(format!("{url}/api/tasks/999/{verb}")).json(&body);
        let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
            ("GET", get("")),
            ("GET diff", get("/diff")),
            ("GET loss", get("/loss")),
            ("GET events", get("/events")),
            ("stop", post("stop", json!({}))),
            ("merge", post("merge", json!({}))),
            ("merge squash", post("merge", json!({"strategy": "squash"}))),
            ("retry", post("retry", json!({}))),
            ("retry --agent", post("retry", json!({"agent": "quick"}))),
            ("say", post("say", json!({"text": "hello?"}))),
            ("reply", post("reply", json!({"text": "again please"}))),
            ("interrupt", post("interrupt", json!({}))),
            ("rebase", post("rebase", json!({}))),
            ("rm", post("rm", json!({}))),
            ("discard", post("discard", json!({"yes": true}))),
            ("pr", post("pr", json!({}))),
            ("approve", post("approve", json!({}))),
            ("deny", post("deny", json!({"reason": "no"}))),
            ("after", post("after", json!({"after": [real]}))),
        ];
        for (what, req) in cases {
            // A stream (an events route answering 200) would never end: bound the wait.
            let (status, body) =
                tokio::time::timeout(Duration::from_secs(20), call(req)).await.unwrap_or_else(|_| panic!("{what}: no answer"));
            assert_eq!(status, 404, "{what}: {body}");
            assert_eq!(body["error"]["code"], "not_found", "{what}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("{what}: no message: {body}"));
            assert!(message.contains("999") && message.contains("not found"), "{what}: {message:?}");
            assert!(!message.contains(FALLBACK), "{what}: a route serves it: {message:?}");
        }
        // The real task was not touched.
        let (_, task) = call(http.get(format!("{url}/api/tasks/{real}"))).await;
        assert_eq!(task["status"], "review");
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
    w.agent("talker", None, &[json!({"say": "one"}), json!({"say": "two"}), json!({"wait_file": gate}), json!({"say": "three"})]);
    w.start(&[]);
    let url = w.url.clone();
    let id = w.add("Talk", "talker");
    crate::harness::wait_for("two messages", || (w.events(id).iter().filter(|e| e["type"] == "message").count() == 2).then_some(()));
    let gate2 = gate.clone();
    let token = w.token();
    runtime().block_on(async move {
        let http = crate::harness::authed(&token);
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
