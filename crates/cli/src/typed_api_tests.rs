//! The typed client against the real daemon, in process: every read decodes into
//! its type and serializes back to exactly the JSON the server sent (so `--json`,
//! which prints the typed body, loses and invents nothing), a task's life runs
//! through the client's calls, and refusals arrive as API errors with their codes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bosun_api::client::{Client, ClientError, Until};
use bosun_api::{GcRequest, MergeRequest, RmRequest, RulesQuery, TaskQuery};
use bosun_core::{NewTask, TaskStatus};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Test User", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The daemon's own token, once it has written it.
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// What the server sent for `GET path` (or `POST path` with `{}`), as JSON.
async fn raw(url: &str, method: reqwest::Method, path: &str) -> Value {
    let req = reqwest::Client::new().request(method.clone(), format!("{url}{path}")).header("accept", "application/json");
    let req = match TOKEN.get() {
        Some(token) => req.bearer_auth(token),
        None => req,
    };
    let req = if method == reqwest::Method::POST { req.header("content-type", "application/json").body("{}") } else { req };
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// The typed answer serializes back to exactly what the server sent.
async fn same(url: &str, path: &str, typed: &impl Serialize) {
    same_as(url, reqwest::Method::GET, path, typed).await
}

async fn same_as(url: &str, method: reqwest::Method, path: &str, typed: &impl Serialize) {
    let sent = raw(url, method, path).await;
    assert_eq!(serde_json::to_value(typed).unwrap(), sent, "{path}: the typed round trip changed the answer");
}

#[tokio::test]
async fn every_route_through_the_typed_client() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config, repo) = (dir.path().join("data"), dir.path().join("config"), dir.path().join("app"));
    let token_file = data.join("token");
    std::fs::create_dir_all(config.join("agents")).unwrap();
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        config.join("agents/maker.md"),
        "---\nname: maker\nruntime: command\ncommand: [\"sh\", \"-c\", \"echo made > made.txt; echo done\"]\nmodel: m-1\ntags: [t]\nallow: [\"Bash(make *)\"]\nenv:\n  SECRET: s3cret\n---\nMake things.\n",
    )
    .unwrap();
    std::fs::write(config.join("agents/broken.md"), "no front matter\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "# app\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "initial"]);

    // The daemon on its own runtime and thread, as `bosun serve` runs it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut cfg = bosun_engine::Config::new(data, config);
    cfg.pr_refresh = None;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            bosun_server::serve(
                cfg,
                bosun_server::Exposure::default(),
                listener,
                async {
                    let _ = stopped.await;
                },
                |_| {},
            )
            .await
        })
    });
    let api = Client::new(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        match api.health().await {
            Ok(h) => break h,
            Err(ClientError::Unreachable { .. }) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("the daemon did not come up: {e}"),
        }
    };
    assert!(health.ok);
    same(&url, "/api/health", &health).await;
    // Everything else needs a credential: without one, a 401 saying what to do.
    let err = api.list_tasks(&TaskQuery::default()).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(StatusCode::UNAUTHORIZED), Some("unauthorized")));
    let hinted = api.clone().on_unauthorized("pass --token".into()).list_tasks(&TaskQuery::default()).await.unwrap_err();
    assert_eq!(hinted.to_string(), "pass --token");
    TOKEN.set(std::fs::read_to_string(&token_file).unwrap().trim().to_string()).unwrap();
    let api = Client::with_token(&url, TOKEN.get().map(String::as_str)).unwrap();

    // Who we are, tokens, devices, pairing.
    let me = api.me().await.unwrap();
    assert_eq!((me.scope, me.kind), (bosun_core::auth::Scope::Admin, bosun_core::auth::PrincipalKind::Local));
    same(&url, "/api/me", &me).await;
    let made = api.create_token(&bosun_api::NewTokenRequest { name: "ci".into(), scope: "read".into() }).await.unwrap();
    assert!(made.token.starts_with("bosun_"));
    let devices = api.devices().await.unwrap();
    assert_eq!(devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>()[1..], ["ci"]);
    same(&url, "/api/devices", &devices).await;
    let err = api.create_token(&bosun_api::NewTokenRequest { name: "ci".into(), scope: "read".into() }).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    let err = api.create_token(&bosun_api::NewTokenRequest { name: "x".into(), scope: "root".into() }).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    let pairing = api.pair(&bosun_api::PairingRequest::default()).await.unwrap();
    assert!(pairing.url.contains("/pair?code=bosun_") && pairing.qr_svg.starts_with("<?xml"), "{pairing:?}");
    let reader = Client::with_token(&url, Some(&made.token)).unwrap();
    assert_eq!(reader.create_task(&NewTask::default()).await.unwrap_err().status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(api.revoke_device(made.device.id).await.unwrap().id, made.device.id);
    assert_eq!(reader.me().await.unwrap_err().status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(api.revoke_device(made.device.id).await.unwrap_err().status(), Some(StatusCode::NOT_FOUND));

    // A task's life: queued, run, review.
    let repo_path = repo.to_string_lossy().into_owned();
    let new = NewTask { title: "make a file".into(), repo: Some(repo_path.clone()), agent: Some("maker".into()), ..NewTask::default() };
    let task = api.create_task(&new).await.unwrap();
    let id = task.id;
    let task = loop {
        let t = api.task(id).await.unwrap();
        if t.status.is_settled() {
            break t;
        }
        assert!(Instant::now() < deadline, "task stuck in {}", t.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(task.status, TaskStatus::Review, "{task:?}");
    same(&url, &format!("/api/tasks/{id}"), &task).await;

    let all = api.list_tasks(&TaskQuery::default()).await.unwrap();
    same(&url, "/api/tasks", &all).await;
    let query = TaskQuery {
        status: Some("review,done".into()),
        repo: Some(repo_path.clone()),
        agent: Some("maker".into()),
        ..TaskQuery::default()
    };
    assert_eq!(api.list_tasks(&query).await.unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), [id]);
    assert!(api.list_tasks(&TaskQuery { tag: Some("nope".into()), ..TaskQuery::default() }).await.unwrap().is_empty());
    let err = api.list_tasks(&TaskQuery { status: Some("sleeping".into()), ..TaskQuery::default() }).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(StatusCode::BAD_REQUEST), Some("bad_request")), "{err}");
    assert!(err.to_string().starts_with("unknown status `sleeping`"), "{err}");

    // Events: the JSON pages and the SSE stream agree.
    let events = api.events(id, 0, 1000).await.unwrap();
    assert!(!events.is_empty());
    same(&url, &format!("/api/tasks/{id}/events?after=0&limit=1000"), &events).await;
    let page = api.events(id, 1, 2).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    let streamed: Vec<_> = api.follow_events(id, 0, Until::Settled).await.unwrap().map(Result::unwrap).collect().await;
    assert_eq!(streamed, events, "a settled task's stream replays the log and ends");

    let diff = api.diff(id).await.unwrap();
    assert_eq!(diff.files, ["made.txt"]);
    same(&url, &format!("/api/tasks/{id}/diff"), &diff).await;

    let agents = api.agents(None).await.unwrap();
    assert_eq!(agents.agents.iter().map(|a| a.profile.name.as_str()).collect::<Vec<_>>(), ["maker"]);
    assert_eq!(agents.broken.len(), 1);
    same(&url, "/api/agents", &agents).await;
    assert!(api.agents(Some(&repo_path)).await.is_ok());

    let approvals = api.approvals(None).await.unwrap();
    assert!(approvals.is_empty());
    same(&url, "/api/approvals", &approvals).await;

    let repos = api.repos().await.unwrap();
    assert_eq!(repos.len(), 1);
    same(&url, "/api/repos", &repos).await;

    let rules = api.rules(&RulesQuery::default()).await.unwrap();
    assert_eq!(rules.iter().map(|r| r.pattern.as_str()).collect::<Vec<_>>(), ["Bash(make *)"]);
    same(&url, "/api/rules", &rules).await;
    // A DELETE gets past the content-type guard: an unknown rule is a 404, not a 415.
    let err = api.revoke_rule(999).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(StatusCode::NOT_FOUND), Some("not_found")), "{err}");

    // Refusals are API errors with their status and code.
    let err = api.stop(id).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(StatusCode::CONFLICT), Some("conflict")), "{err}");
    let err = api.task(999).await.unwrap_err();
    assert_eq!((err.status(), err.code(), err.to_string()), (Some(StatusCode::NOT_FOUND), Some("not_found"), "task 999 not found".into()));
    let err = api.approve(id, &Default::default()).await.unwrap_err();
    assert!(err.status().is_some_and(|s| s.is_client_error()), "{err:?}");
    let err = api.follow_events(999, 0, Until::Settled).await.err().expect("refused");
    assert_eq!(err.code(), Some("not_found"));

    // Bodiless state changes send `{}` and get past the content-type guard.
    let rebased = api.rebase(id).await.unwrap();
    assert_eq!(rebased.outcome, bosun_api::RebaseOutcome::UpToDate);

    let merged = api.merge(id, &MergeRequest::default()).await.unwrap();
    assert_eq!(merged.task.status, TaskStatus::Done);
    assert!(merged.commit.is_some());
    api.rm(id, &RmRequest::default()).await.unwrap();
    let err = api.rm(id, &RmRequest { force: true }).await.unwrap_err();
    assert_eq!(err.code(), Some("conflict"), "{err}");
    assert!(err.to_string().contains("no worktree or branch to remove"), "{err}");

    let gc = api.gc(&GcRequest::default()).await.unwrap();
    same_as(&url, reqwest::Method::POST, "/api/gc", &gc).await;

    drop(api);
    stop.send(()).unwrap();
    daemon.join().unwrap().unwrap();
}
