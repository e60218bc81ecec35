//! Notifications end to end: the real daemon sends to fake ntfy, webhook and push
//! receivers on 127.0.0.1 (small axum servers here, answering as the real services
//! document); the tests check the requests (headers, priority, actions, the HMAC
//! signature; Web Push in `notify/push.rs`), press the Approve link, crash the daemon
//! mid-delivery and send a burst.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use crate::harness::{World, wait_for, wait_within};

mod push;

/// One request a fake receiver got.
#[derive(Clone, Debug)]
pub(super) struct Got {
    pub(super) path: String,
    pub(super) headers: HashMap<String, String>,
    pub(super) body: Vec<u8>,
    /// Whether the receiver answered 2xx.
    accepted: bool,
    /// When it arrived.
    at: chrono::DateTime<chrono::Utc>,
}

impl Got {
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
pub(super) struct Receiver {
    got: Vec<Got>,
    /// Answer 503 to everything (a receiver that is down).
    pub(super) failing: bool,
}

pub(super) type Shared = Arc<Mutex<Receiver>>;

/// Takes any POST: `/gone` answers 410 (a push subscription that expired), everything
/// else 200, or 503 while failing.
async fn take(State(r): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = r.lock().unwrap();
    let status = if uri.path() == "/gone" {
        StatusCode::GONE
    } else if r.failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    r.got.push(Got { path: uri.path().to_string(), headers, body: body.to_vec(), accepted: status.is_success(), at: chrono::Utc::now() });
    status
}

/// Serves a fake receiver on a free port; returns its URL.
pub(super) fn receiver(shared: Shared) -> String {
    crate::harness::serve_fake(axum::Router::new().fallback(axum::routing::post(take)).with_state(shared))
}

pub(super) fn got(r: &Shared) -> Vec<Got> {
    r.lock().unwrap().got.clone()
}

/// A raw request to the daemon, with the CLI's token when the daemon wrote one (so
/// these tests hold with and without authentication).
pub(super) fn authed(w: &World, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match std::fs::read_to_string(w.path("data/token")) {
        Ok(token) => req.bearer_auth(token.trim()),
        Err(_) => req,
    }
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// An action link pressed as ntfy's http action (or the service worker) presses it.
pub(super) fn press(url: &str) -> (u16, String) {
    runtime().block_on(async {
        let resp = reqwest::Client::new().post(url).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

/// An action link opened as a link preview or a browser would (GET).
fn open(url: &str) -> (u16, String) {
    runtime().block_on(async {
        let resp = reqwest::get(url).await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

/// An agent that asks to run `rm -rf build`, then writes a file.
pub(super) fn careful(w: &World) {
    w.agent_with(
        "careful",
        "interactive: true\n",
        &[
            json!({"read_prompt": true}),
            json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": "rm -rf build"}}),
            json!({"write": {"path": "cleaned.txt", "content": "ok\n"}}),
        ],
    );
}

fn pending(w: &World, id: i64) -> usize {
    w.json(&["approvals"]).as_array().unwrap().iter().filter(|a| a["task_id"] == id).count()
}

#[test]
fn ntfy_gets_approve_and_deny_and_the_link_answers_once() {
    let fake: Shared = Arc::default();
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start_with_env(&[], &[("BOSUN_NOTIFY_NTFY_TOKEN", "tok-123")]);
    let added = w.json(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/bosun-me"), "--token-env", "BOSUN_NOTIFY_NTFY_TOKEN"]);
    assert_eq!(added["config"]["token_env"], "BOSUN_NOTIFY_NTFY_TOKEN");
    assert!(!added.to_string().contains("tok-123"), "the secret is never served: {added}");

    let id = w.add("Clean the build", "careful");
    w.wait_status(id, "needs_input");
    let msg = wait_for("ntfy to get the ask", || got(&fake).into_iter().next());
    // ntfy's JSON publishing: POST to the server root, the topic in the body.
    assert_eq!(msg.path, "/");
    assert_eq!(msg.headers["authorization"], "Bearer tok-123");
    let body = msg.json();
    assert_eq!(body["topic"], "bosun-me");
    assert_eq!(body["priority"], 5, "needs you: {body}");
    assert!(body["title"].as_str().unwrap().contains(&format!("T-{id}")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("rm -rf build"), "{body}");
    assert!(body["tags"].as_array().unwrap().contains(&json!("needs_input")));
    assert_eq!(body["click"], format!("{}/tasks/{id}", w.url));
    let delivery = msg.headers["x-bosun-delivery"].clone();
    assert_eq!(body["sequence_id"], delivery.as_str());
    let actions = body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 3, "{body}");
    let (approve, deny) = (&actions[0], &actions[1]);
    assert_eq!(
        (approve["action"].as_str(), approve["label"].as_str(), approve["method"].as_str()),
        (Some("http"), Some("Approve"), Some("POST"))
    );
    assert_eq!((deny["label"].as_str(), deny["method"].as_str()), (Some("Deny"), Some("POST")));
    assert_eq!((actions[2]["action"].as_str(), actions[2]["url"].as_str()), (Some("view"), Some(body["click"].as_str().unwrap())));
    let approve = approve["url"].as_str().unwrap().to_string();
    let deny = deny["url"].as_str().unwrap().to_string();
    assert!(approve.starts_with(&format!("{}/act/", w.url)) && approve != deny, "{approve} {deny}");

    // Opening the link (a preview, a browser) only shows what it would do.
    let (status, page) = open(&approve);
    assert_eq!(status, 200);
    assert!(page.contains("rm -rf build") && page.contains("<form method=\"post\">"), "{page}");
    assert_eq!(pending(&w, id), 1, "a GET approves nothing");

    // Pressed once: approved, and the agent carries on to review.
    let (status, page) = press(&approve);
    assert_eq!(status, 200, "{page}");
    w.wait_status(id, "review");
    let answer = w.events(id).into_iter().find(|e| e["type"] == "approval").expect("the answer is in the log");
    assert_eq!((answer["allow"].as_bool(), answer["source"].as_str()), (Some(true), Some("human:notification")), "{answer}");

    // A second press, or the other button, does nothing.
    let (status, page) = press(&approve);
    assert_eq!(status, 410);
    assert!(page.contains("already answered"), "{page}");
    let (status, page) = press(&deny);
    assert_eq!(status, 410);
    assert!(page.contains("already answered"), "the other button says why, not that it was used: {page}");
    let (status, _) = press(&format!("{}/act/not-a-secret", w.url));
    assert_eq!(status, 410);
    assert_eq!(w.task(id)["status"], "review");

    // The secrets are capabilities: the daemon's log shows `/act/{secret}`, never one.
    let log = wait_for("the daemon to log the answer", || {
        std::fs::read_to_string(w.path("daemon.log")).ok().filter(|l| l.contains("answered through an action link"))
    });
    for url in [&approve, &deny] {
        let secret = url.rsplit('/').next().unwrap();
        assert!(!log.contains(secret), "the log shows an action link's secret");
    }
    assert!(log.contains("/act/{secret}"), "the request span names the route");
}

#[test]
fn a_retried_ask_carries_the_same_links() {
    let fake: Shared = Arc::default();
    fake.lock().unwrap().failing = true;
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start(&[]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--public-topic-ok"]);
    let id = w.add("Clean the build", "careful");
    w.wait_status(id, "needs_input");
    wait_for("two refused attempts", || (got(&fake).len() >= 2).then_some(()));
    fake.lock().unwrap().failing = false;
    let all = wait_for("the accepted attempt", || {
        let all = got(&fake);
        all.iter().any(|g| g.accepted).then_some(all)
    });
    let links = |g: &Got| -> Vec<String> {
        g.json()["actions"].as_array().unwrap().iter().map(|a| a["url"].as_str().unwrap().to_string()).collect()
    };
    let first = links(&all[0]);
    assert_eq!(first.len(), 3, "Approve, Deny, Open");
    for g in &all {
        assert_eq!(g.headers["x-bosun-delivery"], all[0].headers["x-bosun-delivery"], "one delivery");
        assert_eq!(links(g), first, "every attempt carries the same links");
    }
    let (status, page) = press(&first[0]);
    assert_eq!(status, 200, "{page}");
    w.wait_status(id, "review");
}

#[test]
fn an_expired_link_is_refused_and_changes_nothing() {
    let fake: Shared = Arc::default();
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start(&["--action-link-ttl", "1"]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--public-topic-ok"]);
    let id = w.add("Clean the build", "careful");
    let msg = wait_for("ntfy to get the ask", || got(&fake).into_iter().next());
    let approve = msg.json()["actions"][0]["url"].as_str().unwrap().to_string();
    // The link dies after a second: its page says so.
    let page = wait_for("the link to expire", || {
        let (status, page) = open(&approve);
        (status == 410).then_some(page)
    });
    assert!(page.contains("expired"), "{page}");
    let (status, _) = press(&approve);
    assert_eq!(status, 410);
    assert_eq!(pending(&w, id), 1, "the ask is still waiting");
    assert_eq!(w.task(id)["status"], "needs_input");
    // The ask can still be answered the ordinary way.
    w.bosun(&["approve", &id.to_string()]);
    w.wait_status(id, "review");
}

#[test]
fn webhooks_are_signed_and_name_their_delivery() {
    let fake: Shared = Arc::default();
    let hook = receiver(fake.clone());
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start_with_env(&[], &[("BOSUN_NOTIFY_HOOK_SECRET", "s3cret")]);
    w.bosun(&[
        "notify",
        "add",
        "webhook",
        "--url",
        &format!("{hook}/hook"),
        "--secret-env",
        "BOSUN_NOTIFY_HOOK_SECRET",
        "--events",
        "review,merged",
    ]);
    let id = w.add("Quick one", "quick");
    w.wait_status(id, "review");
    let msg = wait_for("the webhook", || got(&fake).into_iter().next());
    assert_eq!(msg.path, "/hook");
    assert_eq!(msg.headers["content-type"], "application/json");
    // The signature is HMAC-SHA256 of the raw body under the secret.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
    let sig = msg.headers["x-bosun-signature"].strip_prefix("sha256=").expect("sha256=<hex>").to_string();
    let sig: Vec<u8> = (0..sig.len()).step_by(2).map(|i| u8::from_str_radix(&sig[i..i + 2], 16).unwrap()).collect();
    ring::hmac::verify(&key, &msg.body, &sig).expect("the signature verifies with the secret");
    assert!(ring::hmac::verify(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"wrong"), &msg.body, &sig).is_err());
    let body = msg.json();
    assert_eq!(body["delivery"], msg.headers["x-bosun-delivery"].as_str());
    assert_eq!(body["kind"], "notification");
    assert_eq!(body["message"]["priority"], "default");
    assert_eq!(body["message"]["tasks"], json!([id]));
    assert_eq!(body["items"][0]["kind"], "review");
    assert_eq!(body["items"][0]["subject"]["title"], "Quick one");
    assert_eq!(body["click_url"], format!("{}/tasks/{id}", w.url));
    assert!(!String::from_utf8_lossy(&msg.body).contains("s3cret"));

    // Merged is news too (the same transition a merged pull request makes).
    w.bosun(&["merge", &id.to_string()]);
    let merged = wait_for("the merge notification", || got(&fake).get(1).cloned()).json();
    assert_eq!((merged["items"][0]["kind"].as_str(), merged["message"]["tasks"].clone()), (Some("merged"), json!([id])));
    assert_ne!(merged["delivery"], body["delivery"]);
}

#[test]
fn an_ask_in_a_burst_keeps_its_buttons() {
    let fake: Shared = Arc::default();
    let hook = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    let gate = w.path("shared/go");
    w.agent("quick", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.agent("gated", None, &[json!({"wait_file": gate}), json!({"write": {"path": "b.txt", "content": "b\n"}})]);
    w.start_with_env(&[], &[("BOSUN_NOTIFY_HOOK_SECRET", "s")]);
    w.bosun(&["notify", "add", "webhook", "--url", &format!("{hook}/hook"), "--secret-env", "BOSUN_NOTIFY_HOOK_SECRET"]);
    let gated = w.add("Gated", "gated");
    wait_for("the gated task to run", || (w.task(gated)["status"] == "running").then_some(()));
    // A first message opens a burst window; an ask and a review land inside it.
    let first = w.add("First", "quick");
    wait_for("the first message", || got(&fake).first().map(|_| ()));
    let ask = w.add("Clean the build", "careful");
    std::fs::write(&gate, "go").unwrap();
    w.wait_status(ask, "needs_input");
    w.wait_status(gated, "review");
    let all = wait_for("the ask and the review", || {
        let all: Vec<Value> = got(&fake).iter().map(Got::json).collect();
        let named = |id: i64| all.iter().any(|m| m["message"]["tasks"].as_array().unwrap().contains(&json!(id)));
        (named(ask) && named(gated)).then_some(all)
    });
    assert!(all.iter().any(|m| m["message"]["tasks"] == json!([first])));
    let asks: Vec<&Value> = all.iter().filter(|m| m["items"].as_array().unwrap().iter().any(|i| i["kind"] == "needs_input")).collect();
    assert_eq!(asks.len(), 1, "{all:?}");
    assert_eq!((asks[0]["kind"].as_str(), asks[0]["items"].as_array().unwrap().len()), (Some("notification"), 1), "never in a digest");
    let labels: Vec<&str> = asks[0]["actions"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Approve", "Deny", "Open"]);
}

#[test]
fn a_failed_delivery_survives_kill_9_and_is_delivered_once() {
    let fake: Shared = Arc::default();
    fake.lock().unwrap().failing = true;
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start(&[]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--public-topic-ok"]);
    let first = w.add("First", "quick");
    w.wait_status(first, "review");
    wait_for("a refused attempt", || got(&fake).first().map(|_| ()));
    let channels = wait_for("the channel to record the failure", || {
        let c = w.json(&["notify", "ls"]);
        c[0]["last_result"].as_str().is_some_and(|r| r.starts_with("failed:")).then_some(c)
    });
    assert!(channels[0]["last_result"].as_str().unwrap().contains("503"), "{channels}");
    w.kill_daemon();
    fake.lock().unwrap().failing = false;
    w.restart_on_same_address();
    wait_for("the delivery after the restart", || got(&fake).iter().find(|g| g.accepted).map(|_| ()));
    // A second notification after it proves the sender moved on.
    let second = w.add("Second", "quick");
    w.wait_status(second, "review");
    let all = wait_for("the second notification", || {
        let all = got(&fake);
        (all.iter().filter(|g| g.accepted).count() >= 2).then_some(all)
    });
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for g in all.iter().filter(|g| g.accepted) {
        *delivered.entry(g.headers["x-bosun-delivery"].clone()).or_default() += 1;
        assert_eq!(g.json()["sequence_id"], g.headers["x-bosun-delivery"].as_str());
    }
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    assert!(delivered.values().all(|n| *n == 1), "each delivery accepted exactly once: {delivered:?}");
    let first_id = &all[0].headers["x-bosun-delivery"];
    assert_eq!(delivered.get(first_id), Some(&1), "the failed delivery went through once, with the same id");
    assert!(all.iter().filter(|g| g.accepted).any(|g| g.json()["title"].as_str().unwrap().contains(&format!("T-{first}"))));
    assert_eq!(w.json(&["notify", "ls"])[0]["last_result"], "ok");
}

#[test]
fn a_burst_of_thirty_reviews_is_one_digest() {
    let fake: Shared = Arc::default();
    let hook = receiver(fake.clone());
    let mut w = World::new("app");
    let gate = w.path("shared/go");
    w.agent("gated", None, &[json!({"wait_file": gate}), json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start_with_env(&["--max-concurrent", "30"], &[("BOSUN_NOTIFY_HOOK_SECRET", "s")]);
    w.bosun(&["notify", "add", "webhook", "--url", &format!("{hook}/hook"), "--secret-env", "BOSUN_NOTIFY_HOOK_SECRET"]);
    let ids: Vec<i64> = (0..30).map(|i| w.add(&format!("Task {i}"), "gated")).collect();
    wait_for("all thirty running", || ids.iter().all(|id| w.task(*id)["status"] == "running").then_some(()));
    std::fs::write(&gate, "go").unwrap();
    // The burst ends after every task is in review plus a pause; allow a slow machine.
    let named = wait_within(Duration::from_secs(120), "all thirty to be named", || {
        let named: Vec<i64> =
            got(&fake).iter().flat_map(|g| g.json()["message"]["tasks"].as_array().unwrap().clone()).map(|v| v.as_i64().unwrap()).collect();
        ids.iter().all(|id| named.contains(id)).then_some(named)
    });
    let all = got(&fake);
    assert!(
        all.len() <= 2,
        "one digest (after at most one leading message), not {}: {:?}",
        all.len(),
        all.iter().map(|g| g.json()["message"]["title"].clone()).collect::<Vec<_>>()
    );
    // What was queued when the channel was idle went at once; the rest as one digest
    // (on a loaded machine the first can be the big one and the last a straggler).
    let digest = all.iter().map(Got::json).find(|m| m["kind"] == "digest").expect("a digest");
    assert!(digest["message"]["title"].as_str().unwrap().contains("ready for review"), "{digest}");
    assert_eq!(named.len(), 30, "each task named once");
}

#[test]
fn quiet_hours_hold_what_the_filters_let_through() {
    let (loud, quiet): (Shared, Shared) = (Arc::default(), Arc::default());
    let (loud_url, quiet_url) = (receiver(loud.clone()), receiver(quiet.clone()));
    let mut w = World::new("app");
    w.agent("quick", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start(&[]);
    // Quiet from an hour ago to an hour from now, in the daemon's local time.
    let now = chrono::Local::now();
    let hours = format!("{}-{}", (now - chrono::Duration::hours(1)).format("%H:%M"), (now + chrono::Duration::hours(1)).format("%H:%M"));
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{quiet_url}/t"), "--quiet", &hours, "--public-topic-ok"]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{loud_url}/t"), "--events", "review"]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{loud_url}/failures"), "--events", "failed"]);
    let id = w.add("Quick one", "quick");
    w.wait_status(id, "review");
    // The loud channel got it: the sender has been through this notification.
    let msg = wait_for("the review on the loud channel", || got(&loud).into_iter().next());
    assert_eq!(msg.json()["topic"], "t", "the failures-only channel got nothing");
    assert_eq!(got(&loud).len(), 1);
    assert!(got(&quiet).is_empty(), "held during quiet hours");
    let channels = w.json(&["notify", "ls"]);
    assert_eq!(channels[0]["quiet"], hours.as_str());
    assert!(channels[0]["last_result"].is_null(), "{channels}");
}

#[test]
fn notify_test_reports_each_channel_and_bad_channels_are_refused() {
    let fake: Shared = Arc::default();
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    w.start(&[]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--name", "phone", "--public-topic-ok"]);
    // Nothing listens on port 1.
    w.bosun(&["notify", "add", "ntfy", "--url", "http://127.0.0.1:1/t", "--name", "dead", "--public-topic-ok"]);
    let out = w.try_bosun(&["notify", "test"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.contains("phone") && l.ends_with(": ok")), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("dead") && l.contains("failed: cannot reach http://127.0.0.1:1: ")), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 channels"));
    let msg = got(&fake).pop().expect("the test message");
    assert_eq!(msg.json()["title"], "bosun test notification");
    let ls = w.bosun(&["notify", "ls"]);
    assert!(ls.contains("phone") && ls.contains("ok ("), "{ls}");

    let refused = |args: &[&str], says: &str| {
        let out = w.try_bosun(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says) && err.lines().count() == 1, "{args:?}: {err}");
    };
    refused(
        &["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--token-env", "BOSUN_NOTIFY_NOT_SET_ANYWHERE"],
        "NOT_SET_ANYWHERE is not set in the daemon's environment",
    );
    // A channel sends its secret to its URL: only variables named for that can be named.
    refused(&["notify", "add", "webhook", "--url", &format!("{ntfy}/h"), "--secret-env", "HOME"], "must start with BOSUN_NOTIFY_");
    // A topic without a token is public: whoever reads it could press Approve.
    refused(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t")], "--public-topic-ok");
    refused(&["notify", "add", "ntfy", "--url", "ntfy.sh/t"], "is not a URL");
    refused(&["notify", "add", "ntfy", "--url", "https://ntfy.sh/"], "names no topic");
    refused(&["notify", "add", "webhook", "--url", "https://hooks.example/x"], "--secret-env");
    refused(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--events", "review,mergd"], "did you mean merged?");
    refused(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--quiet", "22-7"], "HH:MM-HH:MM");
    refused(&["notify", "rm", "99"], "no channel 99");
    // A push endpoint is a public https URL: bosun posts to it.
    let url = w.url.clone();
    let refusals: Vec<(u16, String)> = runtime().block_on(async {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for endpoint in ["http://push.example/x", "https://127.0.0.1/x", "https://169.254.169.254/latest", "https://[::1]/x"] {
            let keys = json!({"p256dh": "BP3Tq0rJ5SZ7oMqyiN2u3u3iNxD1mHc3UGQ0vYzX8QbWb6q5v0w9TQ3b7wXJH3a1l8v0k6Ly0W9Y4m3g2B1d2xk", "auth": "AAAAAAAAAAAAAAAAAAAAAA"});
            let resp = authed(&w, http.post(format!("{url}/api/push/subscriptions")).json(&json!({"endpoint": endpoint, "keys": keys})))
                .send()
                .await
                .unwrap();
            out.push((resp.status().as_u16(), resp.text().await.unwrap()));
        }
        out
    });
    for (status, body) in &refusals {
        assert_eq!(*status, 400, "{body}");
        assert!(body.contains("https://") || body.contains("loopback, private or link-local"), "{body}");
    }
    assert_eq!(w.json(&["notify", "ls"]).as_array().unwrap().len(), 2, "nothing refused was added");
    let id = w.json(&["notify", "ls"])[1]["id"].as_i64().unwrap();
    w.bosun(&["notify", "rm", &id.to_string()]);
    assert_eq!(w.json(&["notify", "ls"]).as_array().unwrap().len(), 1);
}

/// The figure for BENCHMARKS.md (not a test: `cargo test -p bosun --test e2e
/// needs_input_latency -- --ignored --nocapture`): from a task entering needs_input (its
/// `updated_at`, written by that transition) to the fake ntfy receiver getting the
/// message, over 50 asks spaced past the batching window.
#[test]
#[ignore]
fn needs_input_latency() {
    let fake: Shared = Arc::default();
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    careful(&w);
    w.start(&[]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--events", "needs_input", "--public-topic-ok"]);
    let mut ms = Vec::new();
    for i in 0..50 {
        let id = w.add(&format!("Ask {i}"), "careful");
        let msg = wait_for("the ask to arrive", || got(&fake).get(i).cloned());
        let task = w.task(id);
        assert_eq!(task["status"], "needs_input");
        let entered: chrono::DateTime<chrono::Utc> = task["updated_at"].as_str().unwrap().parse().unwrap();
        ms.push((msg.at - entered).num_milliseconds());
        w.bosun(&["approve", &id.to_string()]);
        w.wait_status(id, "review");
        // Outside the batching window: the next ask comes after the channel is idle again.
        std::thread::sleep(Duration::from_millis(3200));
    }
    ms.sort();
    println!(
        "needs_input -> ntfy: p50 {} ms, p90 {} ms, max {} ms over {} asks",
        ms[ms.len() / 2],
        ms[ms.len() * 9 / 10],
        ms[ms.len() - 1],
        ms.len()
    );
}
