//! Source webhooks end to end: deliveries signed as Notion, GitHub and Linear sign
//! them, sent to the real daemon's `/hooks/sources/{id}` while polling is far off (an
//! hour), so a task that appears came from the delivery. Notion's handshake (its
//! verification token kept, then shown once asked, never replaced once proved); a
//! forged, unsigned, replayed or stale delivery refused with nothing made; a delivery
//! racing a sync, repeated, and again after a kill -9, still one task per item.

use std::sync::Arc;

use ring::hmac;
use serde_json::{Value, json};

use super::fake_notion::{self, TOKEN};
use super::{add_notion, fake_github, fake_linear, measure_to_running, tasks};
use crate::harness::{World, wait_for};

fn sign(secret: &str, body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), body);
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// POSTs `body` to source `source`'s webhook with `headers`, as the service would; the status.
fn deliver(w: &World, source: i64, headers: &[(&str, String)], body: &Value) -> u16 {
    let body = serde_json::to_vec(body).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req =
            reqwest::Client::new().post(format!("{}/hooks/sources/{source}", w.url)).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.send().await.unwrap().status().as_u16()
    })
}

/// A page event as Notion sends it, signed with `token`.
fn notion_page_event(w: &World, source: i64, token: &str, page: &str) -> u16 {
    let body = json!({"id": "evt-1", "type": "page.properties_updated", "entity": {"id": page, "type": "page"}, "data": {}});
    let sig = format!("sha256={}", sign(token, &serde_json::to_vec(&body).unwrap()));
    deliver(w, source, &[("x-notion-signature", sig)], &body)
}

fn notion_source(w: &World, api: &str, extra: &[&str]) -> Value {
    let repo = w.repo.to_str().unwrap().to_string();
    let mut args = vec!["--repo", &repo, "--agent-property", "Agent", "--interval", "3600"];
    args.extend_from_slice(extra);
    let out = add_notion(w, api, &args);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_notion_webhook_keeps_its_verification_token_and_a_signed_delivery_starts_the_task_at_once() {
    let fake: fake_notion::Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    let gate = w.path("never");
    w.agent_with(
        "listener",
        "interactive: true\n",
        &[json!({"read_prompt": true}), json!({"say": "listening"}), json!({"listen": 1}), json!({"wait_file": gate.to_str().unwrap()})],
    );
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.start(&[]);
    let s = notion_source(&w, &api, &["--webhook"]);
    let id = s["id"].as_i64().unwrap();
    assert_eq!(s["webhook"]["url"], format!("{}/hooks/sources/{id}", w.url), "{s}");
    let ls = w.bosun(&["source", "ls"]);
    assert!(ls.contains("waiting for Notion's verification token"), "{ls}");
    let early = w.try_bosun(&["source", "verification-token", &id.to_string()]);
    assert!(String::from_utf8_lossy(&early.stderr).contains("Notion has not sent"), "{early:?}");

    // The subscription is made in Notion: it sends its token, unsigned.
    assert_eq!(deliver(&w, id, &[], &json!({"verification_token": "secret_notion_1"})), 200);
    assert_eq!(w.bosun(&["source", "verification-token", &id.to_string()]).trim(), "secret_notion_1");

    // The first poll has run; a page turns Ready after it. Forged and unsigned
    // deliveries are refused and make nothing.
    wait_for("the first sync", || w.json(&["source", "ls"])[0]["last_sync_at"].is_string().then_some(()));
    let page = fake.lock().unwrap().add_page("Hooked", "Ready", Some("listener"), &[], "From a webhook.");
    assert_eq!(notion_page_event(&w, id, "not-the-token", &page), 401);
    let unsigned = json!({"type": "page.created", "entity": {"id": page, "type": "page"}});
    assert_eq!(deliver(&w, id, &[], &unsigned), 401);
    assert_eq!(deliver(&w, 999, &[], &unsigned), 404, "no such source");
    assert!(tasks(&w).is_empty());

    // Signed with the token: the page is read at once and becomes a task.
    assert_eq!(notion_page_event(&w, id, "secret_notion_1", &page), 200);
    let t = wait_for("the task from the delivery", || tasks(&w).into_iter().find(|t| t["status"] == "running"));
    let task = t["id"].as_i64().unwrap();
    assert_eq!(t["agent"], "listener");
    let ls = w.json(&["source", "ls"]);
    assert!(ls[0]["webhook"]["last_delivery_at"].is_string(), "{ls}");
    // Once a signed delivery proved the token, another cannot replace it.
    assert_eq!(deliver(&w, id, &[], &json!({"verification_token": "secret_stranger"})), 409);
    assert_eq!(w.bosun(&["source", "verification-token", &id.to_string()]).trim(), "secret_notion_1");

    // A person's comment: its comment event brings it to the agent now.
    wait_for("the agent listening", || w.events(task).iter().any(|e| e["type"] == "message" && e["text"] == "listening").then_some(()));
    fake.lock().unwrap().add_comment(&page, "Ada", "Mind the tests.");
    let body = json!({"type": "comment.created", "entity": {"id": "c-x", "type": "comment"}, "data": {"page_id": page}});
    let sig = format!("sha256={}", sign("secret_notion_1", &serde_json::to_vec(&body).unwrap()));
    assert_eq!(deliver(&w, id, &[("x-notion-signature", sig)], &body), 200);
    wait_for("the comment delivered to the agent", || {
        w.events(task).iter().any(|e| e["type"] == "message" && e["text"] == "Mind the tests." && e["from"] == "Ada (Notion)").then_some(())
    });
}

#[test]
fn a_delivery_racing_a_sync_repeated_and_again_after_a_kill_9_is_one_task() {
    let fake: fake_notion::Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    w.agent("echoer", None, &[json!({"say": "done"})]);
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.env.push(("BOSUN_NOTION_HOOK".into(), "shared-secret".into()));
    w.start(&[]);
    let id = notion_source(&w, &api, &["--webhook-secret-env", "BOSUN_NOTION_HOOK"])["id"].as_i64().unwrap();
    wait_for("the first sync", || w.json(&["source", "ls"])[0]["last_sync_at"].is_string().then_some(()));
    let pages: Vec<String> =
        (0..4).map(|i| fake.lock().unwrap().add_page(&format!("Race {i}"), "Ready", Some("echoer"), &[], "body")).collect();
    // Each page delivered twice while a sync runs.
    std::thread::scope(|s| {
        s.spawn(|| w.bosun(&["source", "sync", &id.to_string()]));
        for p in &pages {
            s.spawn(|| assert_eq!(notion_page_event(&w, id, "shared-secret", p), 200));
            s.spawn(|| assert_eq!(notion_page_event(&w, id, "shared-secret", p), 200));
        }
    });
    wait_for("four tasks", || (tasks(&w).len() == 4).then_some(()));
    w.kill_daemon();
    w.restart_on_same_address();
    for p in &pages {
        assert_eq!(notion_page_event(&w, id, "shared-secret", p), 200);
    }
    w.bosun(&["source", "sync", &id.to_string()]);
    // Every delivery has been read (the last ones in the background): still four.
    for t in tasks(&w) {
        w.wait_status(t["id"].as_i64().unwrap(), "review");
    }
    let all = tasks(&w);
    assert_eq!(all.len(), 4, "{all:?}");
    for p in &pages {
        assert_eq!(all.iter().filter(|t| t["body"].as_str().unwrap_or("").contains(&p.replace('-', ""))).count(), 1, "{p}");
    }
}

#[test]
fn github_and_linear_deliveries_are_checked_against_their_secrets() {
    let github: fake_github::Shared = Arc::default();
    let gh_api = fake_github::serve(github.clone());
    let linear: fake_linear::Shared = Arc::default();
    let lin_api = fake_linear::serve(linear.clone());
    let mut w = World::new("app");
    w.agent("worker", None, &[json!({"say": "on it"})]);
    w.env.push(("LINEAR_API_KEY".into(), fake_linear::KEY.into()));
    w.env.push(("BOSUN_GH_HOOK".into(), "gh-secret".into()));
    w.env.push(("BOSUN_LINEAR_HOOK".into(), "lin-secret".into()));
    w.start_with_env(&[], &[("GITHUB_TOKEN", fake_github::TOKEN)]);
    let repo = w.repo.to_str().unwrap().to_string();

    // A GitHub or Linear webhook is signed with a secret the user chose: it must be named.
    crate::harness::git(&w.repo, &["remote", "add", "origin", "https://github.com/acme/app.git"]);
    let bad = w.try_bosun(&["source", "add", "github", "--repo", &repo, "--label", "bosun", "--webhook", "--api", &gh_api]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("give --webhook-secret-env NAME"), "{bad:?}");
    let gh = w.json(&[
        "source",
        "add",
        "github",
        "--repo",
        &repo,
        "--label",
        "bosun",
        "--webhook-secret-env",
        "BOSUN_GH_HOOK",
        "--interval",
        "3600",
        "--api",
        &gh_api,
    ]);
    let gh_id = gh["id"].as_i64().unwrap();
    wait_for("the first GitHub sync", || w.json(&["source", "ls"])[0]["last_sync_at"].is_string().then_some(()));
    let number = github.lock().unwrap().add_issue("Hooked issue", "From GitHub.", &["bosun", "agent:worker"]);
    let body = json!({"action": "labeled", "issue": {"number": number}});
    let raw = serde_json::to_vec(&body).unwrap();
    let ping = json!({"zen": "Keep it logically awesome."});
    let ping_sig = format!("sha256={}", sign("gh-secret", &serde_json::to_vec(&ping).unwrap()));
    assert_eq!(deliver(&w, gh_id, &[("x-hub-signature-256", ping_sig), ("x-github-event", "ping".into())], &ping), 200);
    let forged = format!("sha256={}", sign("guess", &raw));
    assert_eq!(deliver(&w, gh_id, &[("x-hub-signature-256", forged), ("x-github-event", "issues".into())], &body), 401);
    assert!(tasks(&w).is_empty());
    let good = format!("sha256={}", sign("gh-secret", &raw));
    assert_eq!(deliver(&w, gh_id, &[("x-hub-signature-256", good), ("x-github-event", "issues".into())], &body), 200);
    let t = wait_for("the task from the GitHub delivery", || tasks(&w).into_iter().find(|t| t["title"] == "Hooked issue"));
    assert_eq!(t["origin"]["reference"], format!("#{number}"));

    // Linear: an issue delegated to bosun's app user (no label) is watched with --delegated.
    let lin = w.json(&[
        "source",
        "add",
        "linear",
        "--team",
        "ENG",
        "--delegated",
        "--token-env",
        "LINEAR_API_KEY",
        "--repo",
        &repo,
        "--webhook-secret-env",
        "BOSUN_LINEAR_HOOK",
        "--interval",
        "3600",
        "--api",
        &lin_api,
    ]);
    let lin_id = lin["id"].as_i64().unwrap();
    assert_eq!(lin["delegated"], true);
    wait_for("the first Linear sync", || {
        w.json(&["source", "ls"]).as_array().unwrap().iter().find(|s| s["id"] == lin_id)?["last_sync_at"].is_string().then_some(())
    });
    let issue = {
        let mut l = linear.lock().unwrap();
        let issue = l.add_issue("Delegated work", &["agent:worker"], "Todo");
        l.delegate(&issue, Some(fake_linear::ME));
        l.add_issue("Not for bosun", &["agent:worker"], "Todo");
        issue
    };
    let event = |at: i64| json!({"action": "update", "type": "Issue", "data": {"id": issue}, "webhookTimestamp": at});
    let stale = event(chrono::Utc::now().timestamp_millis() - 10 * 60_000);
    let stale_sig = sign("lin-secret", &serde_json::to_vec(&stale).unwrap());
    assert_eq!(deliver(&w, lin_id, &[("linear-signature", stale_sig)], &stale), 401, "an old delivery is a replay");
    let fresh = event(chrono::Utc::now().timestamp_millis());
    let sig = sign("lin-secret", &serde_json::to_vec(&fresh).unwrap());
    assert_eq!(deliver(&w, lin_id, &[("linear-signature", sig)], &fresh), 200);
    let t = wait_for("the task from the Linear delivery", || tasks(&w).into_iter().find(|t| t["title"] == "Delegated work"));
    assert_eq!(t["origin"]["reference"], "ENG-1");
    // The other issue is neither labelled nor delegated: a sync does not take it.
    w.bosun(&["source", "sync", &lin_id.to_string()]);
    assert!(!tasks(&w).iter().any(|t| t["title"] == "Not for bosun"));
}

/// A measurement for BENCHMARKS.md, not a test (`cargo test -p bosun --test e2e
/// webhooks::measure -- --ignored --nocapture`): from Notion's delivery of a page
/// turning Ready to its agent running.
#[test]
#[ignore]
fn measure_webhook_to_running() {
    let fake: fake_notion::Shared = Arc::default();
    let api = fake_notion::serve(fake.clone());
    let mut w = World::new("app");
    let gate = w.path("never");
    w.agent("gated", Some(50), &[json!({"wait_file": gate.to_str().unwrap()})]);
    w.env.push(("NOTION_TOKEN".into(), TOKEN.into()));
    w.env.push(("BOSUN_NOTION_HOOK".into(), "s".into()));
    w.start(&[]);
    let id = notion_source(&w, &api, &["--webhook-secret-env", "BOSUN_NOTION_HOOK"])["id"].as_i64().unwrap();
    wait_for("the first sync", || w.json(&["source", "ls"])[0]["last_sync_at"].is_string().then_some(()));
    // Spaced as pages turn Ready in a day: the source's request budget has refilled.
    measure_to_running(&w, &fake, std::time::Duration::from_secs(2), "webhook delivery -> agent running", |page| {
        assert_eq!(notion_page_event(&w, id, "s", page), 200);
    });
}
