//! Budgets and the cost ledger end to end, with the scripted fake agent (priced from
//! the table: a `command` agent's own figure is never charged): reservations that
//! never together exceed a budget, a run stopped the moment it crosses one and
//! continued by `budget raise`, and a usage report replayed after a kill -9 counted
//! once; a task blocked by a budget starts when it is raised (by `budget raise`, or in
//! routing.toml). The real Claude Code and Codex versions are in `budget_real.rs`.

use std::process::Command;

use serde_json::{Value, json};

use std::sync::Arc;

use crate::harness::{World, wait_for};
use crate::notify::{Shared, got, receiver};

/// What claude-sonnet costs for this many input tokens: $3 per million.
fn usage(input_tokens: u64) -> Value {
    json!({"usage": {"input_tokens": input_tokens}})
}

fn spender(w: &World, name: &str, steps: &[Value]) {
    w.agent_with(name, "model: claude-sonnet-4-5\n", steps);
}

fn add(w: &World, args: &[&str]) -> i64 {
    let mut all = vec!["add", "--repo", w.repo.to_str().unwrap(), "--agent"];
    all.extend_from_slice(args);
    w.bosun(&all).lines().next().unwrap().trim().parse().unwrap()
}

fn run_costs(w: &World) -> f64 {
    let tasks = w.json(&["ls"]);
    tasks.as_array().unwrap().iter().flat_map(|t| t["runs"].as_array().unwrap().clone()).filter_map(|r| r["cost_usd"].as_f64()).sum()
}

fn ledger_total(w: &World) -> f64 {
    w.json(&["cost", "--by", "task"])["total_usd"].as_f64().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn ten_tasks_under_a_budget_for_three_reservations_start_as_reservations_are_released() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    spender(&w, "worker", &[json!({"wait_file": gate}), usage(100_000), json!({"say": "done"})]);
    std::fs::write(w.path("config/routing.toml"), "[budget]\ndaily = 3.0\n[budget.task]\ndefault = 1.0\n").unwrap();
    w.start(&["--max-concurrent", "16"]);
    let ids: Vec<i64> = (0..10).map(|i| add(&w, &["worker", "--", &format!("Task {i}")])).collect();
    // Those that do not fit are `blocked`, naming the budget (not failed, not queued).
    let blocked = |t: &Value| t["status"] == "blocked" && t["waiting"]["kind"] == "budget" && t["waiting"]["budget"] == "daily";
    let (running, waiting) = wait_for("three running, seven blocked by the daily budget", || {
        let tasks: Vec<Value> = ids.iter().map(|id| w.task(*id)).collect();
        let running = tasks.iter().filter(|t| t["status"] == "running").count();
        let waiting: Vec<Value> = tasks.iter().filter(|t| blocked(t)).cloned().collect();
        (running == 3 && waiting.len() == 7).then_some((running, waiting))
    });
    assert_eq!(running, 3);
    assert!(
        waiting[0]["waiting"]["text"].as_str().unwrap().starts_with("blocked by budget `daily`: $0.00 spent + $3.00 reserved of $3.00")
    );
    assert!(waiting[0]["status_reason"].as_str().unwrap().starts_with("blocked by budget `daily`"), "{}", waiting[0]);
    let rows = w.bosun(&["ls"]);
    let blocked_rows = rows.lines().filter(|l| l.contains("blocked") && l.contains("blocked by budget `daily`")).count();
    assert_eq!(blocked_rows, 7, "{rows}");
    let shown = w.bosun(&["show", &waiting[0]["id"].to_string()]);
    assert!(shown.contains("status:    blocked (blocked by budget `daily`"), "{shown}");
    assert!(shown.contains("waiting:   blocked by budget `daily`"), "{shown}");
    let events = w.events(waiting[0]["id"].as_i64().unwrap());
    assert!(events.iter().any(|e| e["type"] == "status" && e["status"] == "blocked"), "the timeline says why: {events:#?}");
    let budgets = w.json(&["budget"]);
    let daily = budgets["budgets"].as_array().unwrap().iter().find(|b| b["name"] == "daily").unwrap().clone();
    assert_eq!((daily["limit"].as_f64(), daily["reserved"].as_f64(), daily["remaining"].as_f64()), (Some(3.0), Some(3.0), Some(0.0)));

    // Each run spends $0.30 of its $1 reservation; what it leaves is released at its
    // end, and another starts while spent + reserved + $1 fits $3: until $2.10 is spent
    // (seven runs), after which none fits.
    std::fs::write(&gate, "go").unwrap();
    wait_for("seven done, three blocked by the spent budget", || {
        let tasks: Vec<Value> = ids.iter().map(|id| w.task(*id)).collect();
        let done = tasks.iter().filter(|t| t["status"] == "review").count();
        (done == 7 && tasks.iter().filter(|t| blocked(t)).count() == 3).then_some(())
    });
    let done = 7;
    let spent = run_costs(&w);
    assert!(spent <= 3.0 + 1e-9, "never more than the budget: {spent}");
    assert!(close(spent, 0.3 * done as f64), "{spent} for {done} runs");
    assert!(close(ledger_total(&w), spent), "the ledger's total is the runs' sum");
    let by_profile = w.json(&["cost", "--by", "profile"]);
    assert_eq!(by_profile["rows"][0]["key"], "worker");
    assert_eq!(by_profile["rows"][0]["reports"].as_u64(), Some(done as u64));
    let failed = ids.iter().map(|id| w.task(*id)).filter(|t| t["status"] == "failed").count();
    assert_eq!(failed, 0, "a budget blocks, it never fails a task");
}

#[test]
fn a_task_blocked_by_its_own_budget_starts_when_it_is_raised() {
    let mut w = World::new("app");
    spender(&w, "worker", &[usage(100_000), json!({"say": "done"})]);
    w.start(&[]);
    let id = add(&w, &["worker", "--budget", "0", "--", "Nothing to spend yet"]);
    let t = w.wait_status(id, "blocked");
    assert_eq!((t["waiting"]["kind"].as_str(), t["waiting"]["budget"].as_str()), (Some("budget"), Some(format!("task T-{id}").as_str())));
    assert!(t["runs"].as_array().unwrap().is_empty(), "no run started: {t}");
    let out = w.bosun(&["budget", "raise", &id.to_string(), "1"]);
    assert_eq!(out.trim(), format!("T-{id} budget $1.00; it starts once its run's reservation fits every budget"));
    let t = w.wait_status(id, "review");
    assert!(close(t["runs"][0]["cost_usd"].as_f64().unwrap(), 0.3));
}

#[test]
fn a_run_crossing_its_budget_is_stopped_and_continues_when_it_is_raised() {
    let mut w = World::new("app");
    let marker = w.path("shared/fourth");
    spender(
        &w,
        "spender",
        &[
            json!({"repeat": {"times": 3, "every_ms": 700, "step": {"usage": {"input_tokens": 100_000}}}}),
            // Never reached on the first run: it is stopped at the third report.
            json!({"sleep_ms": 700}),
            json!({"append": {"path": marker, "content": "a fourth report\n"}}),
            usage(100_000),
        ],
    );
    let fake: Shared = Arc::default();
    let hook = receiver(fake.clone());
    w.start_with_env(&[], &[("BOSUN_NOTIFY_HOOK_SECRET", "s3cret")]);
    let url = format!("{hook}/hook");
    w.bosun(&["notify", "add", "webhook", "--url", &url, "--secret-env", "BOSUN_NOTIFY_HOOK_SECRET", "--events", "budget,needs_input"]);
    let id = add(&w, &["spender", "--budget", "0.7", "--", "Spend"]);
    let t = w.wait_status(id, "needs_input");
    let reason = t["status_reason"].as_str().unwrap();
    assert_eq!(
        reason,
        format!(
            "stopped: budget `task T-{id}`: $0.90 spent + $0.00 reserved of $0.70 crossed; `bosun budget raise T-{id} <dollars>` lets it continue"
        )
    );
    assert_eq!(t["runs"][0]["status"], "stopped");
    assert!(close(t["runs"][0]["cost_usd"].as_f64().unwrap(), 0.9));
    let events = w.events(id);
    assert!(
        events.iter().any(|e| e["type"] == "status" && e["status"] == "budget_warning" && e["message"].as_str().unwrap().contains("80%")),
        "warned at 80%: {events:#?}"
    );
    assert!(!marker.exists(), "the agent did nothing after the report that crossed the budget");
    // Both reach the notification channels: the warning, and the stop with its reason.
    let kinds = wait_for("the budget notifications", || {
        let items: Vec<Value> = got(&fake).iter().flat_map(|m| m.json()["items"].as_array().unwrap().clone()).collect();
        let kinds: Vec<String> = items.iter().map(|i| i["kind"].as_str().unwrap().to_string()).collect();
        (kinds.contains(&"budget".to_string()) && kinds.contains(&"needs_input".to_string())).then_some(items)
    });
    let stop = kinds.iter().find(|i| i["kind"] == "needs_input").unwrap();
    assert_eq!(stop["subject"]["reason"].as_str(), Some(reason));
    let budgets = w.json(&["budget"]);
    let line = budgets["budgets"].as_array().unwrap().iter().find(|b| b["name"] == format!("task T-{id}")).unwrap().clone();
    assert_eq!((line["limit"].as_f64(), line["remaining"].as_f64()), (Some(0.7), Some(0.0)));

    // Raising it lets the task go on (a new run in the same worktree).
    let out = w.bosun(&["budget", "raise", &id.to_string(), "5"]);
    assert_eq!(out.trim(), format!("T-{id} budget $5.00; it is queued"));
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    assert!(close(run_costs(&w), 0.9 + 1.2), "{}", run_costs(&w));
    assert!(close(ledger_total(&w), run_costs(&w)));
    // Raising a task that is not stopped needs an amount; bad input is one clear line.
    let out = w.try_bosun(&["budget", "raise", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not stopped or blocked by a budget"));
    let out = w.try_bosun(&["budget", "raise", &id.to_string(), "--", "-3"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_usage_report_replayed_after_a_kill_9_is_counted_once() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    spender(&w, "spender", &[usage(100_000), usage(200_000), json!({"wait_file": gate}), usage(300_000)]);
    w.start(&[]);
    let id = add(&w, &["spender", "--", "Spend across a crash"]);
    wait_for("two usage reports stored", || (w.events(id).iter().filter(|e| e["type"] == "usage").count() == 2).then_some(()));
    w.kill_daemon();
    // As if the daemon died after storing those reports but before their line count:
    // the next daemon takes in every line of the spool again.
    let out = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(w.path("data/bosun.db"))
        .arg("UPDATE runs SET output_seen = 0")
        .output()
        .expect("sqlite3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.restart_on_same_address();
    std::fs::write(&gate, "go").unwrap();
    let t = w.wait_status(id, "review");
    let reports = w.events(id).iter().filter(|e| e["type"] == "usage").count();
    assert!(reports >= 4, "the replay stored the first reports' events again: {reports}");
    assert!(close(t["runs"][0]["cost_usd"].as_f64().unwrap(), 1.8), "each report counted once: {t}");
    let costs = w.json(&["cost", "--by", "task"]);
    assert_eq!(costs["rows"][0]["reports"].as_u64(), Some(3));
    assert!(close(ledger_total(&w), 1.8));
}

#[test]
fn a_task_blocked_by_the_daily_budget_starts_once_routing_toml_raises_it() {
    let mut w = World::new("app");
    spender(&w, "worker", &[usage(100_000), json!({"say": "done"})]);
    let routing = w.path("config/routing.toml");
    std::fs::write(&routing, "[budget]\ndaily = 0.0\n").unwrap();
    w.start(&[]);
    let id = add(&w, &["worker", "--", "Wait for the money"]);
    let t = w.wait_status(id, "blocked");
    assert_eq!(t["waiting"]["budget"], "daily");
    // Editing the file is enough: the daemon watches it (nothing else happens meanwhile
    // that would make the dispatcher look again).
    std::fs::write(&routing, "[budget]\ndaily = 5.0\n").unwrap();
    let t = w.wait_status(id, "review");
    assert!(close(t["runs"][0]["cost_usd"].as_f64().unwrap(), 0.3));
    let budgets = w.json(&["budget"]);
    let daily = budgets["budgets"].as_array().unwrap().iter().find(|b| b["name"] == "daily").unwrap().clone();
    assert_eq!(daily["limit"].as_f64(), Some(5.0));
}

#[test]
fn a_task_after_one_a_budget_blocks_waits_for_it_and_is_not_blocked_itself() {
    let mut w = World::new("app");
    spender(&w, "worker", &[usage(100_000), json!({"say": "done"})]);
    w.start(&[]);
    let first = add(&w, &["worker", "--budget", "0", "--", "First"]);
    w.wait_status(first, "blocked");
    let second = add(&w, &["worker", "--after", &first.to_string(), "--", "Second"]);
    // A dependency waiting for money has not gone wrong: its dependent waits, queued.
    let t = wait_for("the dependent to say what it waits for", || {
        let t = w.task(second);
        (t["waiting"]["kind"] == "dependency").then_some(t)
    });
    assert_eq!((t["status"].as_str(), t["waiting"]["status"].as_str()), (Some("queued"), Some("blocked")), "{t}");
    w.bosun(&["budget", "raise", &first.to_string(), "1"]);
    let t = w.wait_status(first, "review");
    assert!(close(t["runs"][0]["cost_usd"].as_f64().unwrap(), 0.3));
    assert_eq!(w.task(second)["status"], "queued", "still waiting: the first is not merged");
}
