//! Pull requests against a local fake GitHub API, with a bare repository as the
//! remote: the branch really arrives, the API gets the right request, and a merged
//! PR makes the task done.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::harness::{World, git};

#[derive(Default)]
struct Fake {
    /// (authorization header, body) of every POST /pulls.
    created: Vec<(String, Value)>,
    merged: bool,
}

type Shared = Arc<Mutex<Fake>>;

async fn create(
    State(fake): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let draft = body["draft"].as_bool().unwrap_or(false);
    fake.lock().unwrap().created.push((auth.clone(), body));
    if auth != "Bearer test-token" {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"})));
    }
    let url = format!("https://github.example/{owner}/{repo}/pull/7");
    (StatusCode::CREATED, Json(json!({"number": 7, "html_url": url, "state": "open", "draft": draft, "merged": false})))
}

async fn read(State(fake): State<Shared>, Path((owner, repo, number)): Path<(String, String, i64)>) -> Json<Value> {
    let merged = fake.lock().unwrap().merged;
    Json(json!({
        "number": number,
        "html_url": format!("https://github.example/{owner}/{repo}/pull/{number}"),
        "state": if merged { "closed" } else { "open" },
        "draft": false,
        "merged": merged,
    }))
}

/// Serves the fake API on a free port from a thread of its own; returns its URL.
fn serve_fake(fake: Shared) -> String {
    crate::harness::serve_fake(
        axum::Router::new()
            .route("/repos/{owner}/{repo}/pulls", post(create))
            .route("/repos/{owner}/{repo}/pulls/{number}", get(read))
            .with_state(fake),
    )
}

#[test]
fn pr_pushes_the_branch_and_opens_a_pull_request() {
    let fake: Shared = Arc::default();
    let api = serve_fake(fake.clone());
    let mut w = World::new("app");
    let bare = w.path("remote.git");
    git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&w.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    std::fs::create_dir_all(w.repo.join(".bosun")).unwrap();
    std::fs::write(w.repo.join(".bosun/config.toml"), format!("[github]\nrepo = \"acme/app\"\napi = \"{api}\"\n")).unwrap();
    git(&w.repo, &["add", "."]);
    git(&w.repo, &["commit", "-qm", "bosun config"]);
    w.agent(
        "worker",
        None,
        &[json!({"write": {"path": "fix.txt", "content": "fixed\n"}}), json!({"say": "Fixed the flaky test by waiting for the server."})],
    );
    w.start_with_env(&[], &[("GITHUB_TOKEN", "test-token")]);
    let id = w.add("Fix the flaky login test", "worker");
    w.wait_status(id, "review");

    let out = w.bosun(&["pr", &id.to_string(), "--draft"]);
    assert!(out.starts_with("https://github.example/acme/app/pull/7\n"), "{out}");
    let t = w.task(id);
    assert_eq!(t["pr"], json!({"number": 7, "url": "https://github.example/acme/app/pull/7", "state": "open", "draft": true}));
    assert_eq!(t["status"], "review");

    // The branch arrived in the bare remote, at the task branch's commit.
    let branch = "bosun/1-fix-the-flaky-login-test";
    assert_eq!(git(&bare, &["rev-parse", &format!("refs/heads/{branch}")]), git(&w.repo, &["rev-parse", branch]));
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.created.len(), 1);
        let (auth, body) = &fake.created[0];
        assert_eq!(auth, "Bearer test-token");
        assert_eq!((body["head"].as_str(), body["base"].as_str()), (Some(branch), Some("main")));
        assert_eq!(body["title"], "Fix the flaky login test");
        assert_eq!(body["draft"], true);
        let text = body["body"].as_str().unwrap();
        assert!(text.contains("Fixed the flaky test by waiting for the server."), "{text}");
        assert!(text.contains(&format!("/tasks/{id})")), "links back to the task: {text}");
    }
    assert!(w.bosun(&["ls"]).contains("pr open"));

    // Asking again does not open a second one.
    w.bosun(&["pr", &id.to_string()]);
    assert_eq!(fake.lock().unwrap().created.len(), 1);

    // Merged on the forge: the task is done and its clean worktree goes.
    fake.lock().unwrap().merged = true;
    let t = w.json(&["pr", &id.to_string(), "--refresh"]);
    assert_eq!(t["status"], "done");
    assert_eq!(t["pr"]["state"], "merged");
    assert!(!std::path::Path::new(t["worktree"].as_str().unwrap()).exists());
}

#[test]
fn pr_errors_are_clear() {
    let fake: Shared = Arc::default();
    let api = serve_fake(fake.clone());
    let mut w = World::new("app");
    w.agent("worker", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start_with_env(&[], &[("GITHUB_TOKEN", "wrong-token"), ("BOSUN_GITHUB_API", &api)]);
    let id = w.add("Something", "worker");
    w.wait_status(id, "review");
    let err = |args: &[&str]| {
        let out = w.try_bosun(args);
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(err(&["pr", "1"]).contains("has no remote `origin`"));
    let bare = w.path("remote.git");
    git(w.dir.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&w.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    assert!(err(&["pr", "1"]).contains("set `[github] repo = \"owner/name\"`"));
    std::fs::create_dir_all(w.repo.join(".bosun")).unwrap();
    std::fs::write(w.repo.join(".bosun/config.toml"), "[github]\nrepo = \"acme/app\"\n").unwrap();
    let msg = err(&["pr", "1"]);
    assert!(msg.contains("opening the pull request: GitHub refused the token: Bad credentials"), "{msg}");
    assert!(w.task(id)["pr"].is_null());
}
