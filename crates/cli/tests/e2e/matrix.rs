//! The kill -9 matrix: the daemon dies by SIGKILL at each window where a crash could
//! lose or double something — a run just stored, mid `git worktree add`, its
//! worktree just made, its agent just spawned, mid-run (its holder alive, or everything dead as in a power cut),
//! the run's end half written, a merge after the base moved, a notification claimed
//! and one accepted but not yet marked sent — and after a restart every case checks
//! the same things: no task lost or added, every task's events gapless and no agent
//! line stored twice, no commit doubled, no delivery repeated but under its own id,
//! no process carrying a run's token left, and the retry or the resume reaching review.
//!
//! Exact windows come from the engine's test-only crash points (`BOSUN_TEST_CRASH_AT`,
//! `crates/engine/src/crash.rs`); mid-run from killing the daemon while the agent waits
//! on a gate. Each case prints one `matrix:` line with its counts (BENCHMARKS.md).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{World, git, wait_for};
use crate::notify::{Shared, got, receiver};

const CRASH: &str = "BOSUN_TEST_CRASH_AT";
/// Lines the agent prints before and after its gate.
const LINES: usize = 40;

/// Runs `query` on the world's database with the sqlite3 CLI; the rows, `|`-separated.
pub(crate) fn sql(w: &World, query: &str) -> Vec<String> {
    let out = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(w.path("data/bosun.db"))
        .arg(query)
        .output()
        .expect("sqlite3 runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

pub(crate) fn count(w: &World, query: &str) -> i64 {
    sql(w, query)[0].parse().unwrap()
}

/// An agent that prints `a0..`, waits for `gate` (when given), prints `b0..`, and
/// writes one file (one commit on its branch).
fn worker(w: &World, gate: Option<&Path>) {
    let mut steps: Vec<Value> = (0..LINES).map(|i| json!({"print": format!("a{i}")})).collect();
    if let Some(gate) = gate {
        steps.push(json!({"wait_file": gate}));
    }
    steps.extend((0..LINES).map(|i| json!({"print": format!("b{i}")})));
    steps.push(json!({"write": {"path": "work.txt", "content": "work\n"}}));
    w.agent("worker", None, &steps);
}

/// Adds a task to a daemon that may die while answering; its id, from the store if
/// the answer was lost with the daemon.
fn add_racing_a_crash(w: &World, title: &str) -> i64 {
    let out = w.try_bosun(&["add", "--repo", w.repo.to_str().unwrap(), "--agent", "worker", "--", title]);
    match String::from_utf8_lossy(&out.stdout).lines().next().and_then(|l| l.trim().parse().ok()) {
        Some(id) => id,
        None => wait_for("the task to be stored", || sql(w, "SELECT max(id) FROM tasks").first()?.parse().ok()),
    }
}

/// What the store held right after the crash.
struct Before {
    tasks: i64,
    main: u32,
}

fn before(w: &World) -> Before {
    Before { tasks: count(w, "SELECT count(*) FROM tasks"), main: commits(w, "main") }
}

fn commits(w: &World, range: &str) -> u32 {
    git(&w.repo, &["rev-list", "--count", range]).parse().unwrap()
}

/// The checks every case ends with, once its tasks have settled; returns a summary of
/// the counts for the `matrix:` line.
fn nothing_lost_nothing_doubled(w: &World, before: &Before, merged: u32) -> String {
    assert_eq!(count(w, "SELECT count(*) FROM tasks"), before.tasks, "no task lost or added");
    // Every task's events are numbered 1..n with no gap (a repeated or lost write shows).
    for row in sql(w, "SELECT task_id, count(*), max(seq), min(seq) FROM events GROUP BY task_id") {
        let v: Vec<i64> = row.split('|').map(|x| x.parse().unwrap()).collect();
        assert!(v[1] == v[2] && v[3] == 1, "task {}: {} events numbered {}..{}", v[0], v[1], v[3], v[2]);
    }
    // No agent line stored twice for one run, none of a finished run lost.
    let lines = sql(w, "SELECT run_id, json_extract(data, '$.line') FROM events WHERE json_extract(data, '$.type') = 'output'");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for l in &lines {
        *seen.entry(l).or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "an agent line stored twice: {:?}", seen.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>());
    for run in sql(w, "SELECT id FROM runs WHERE status = 'succeeded'") {
        for (half, n) in ["a", "b"].iter().flat_map(|h| (0..LINES).map(move |i| (h, i))) {
            assert!(seen.contains_key(format!("{run}|{half}{n}").as_str()), "run {run} lost line {half}{n}");
        }
    }
    // Every run ended once: one final status event each (whoever wrote it).
    let ends = sql(
        w,
        "SELECT run_id, count(*) FROM events WHERE run_id > 0 AND json_extract(data, '$.type') = 'status' \
         AND json_extract(data, '$.status') IN ('review', 'failed', 'stopped', 'interrupted') GROUP BY run_id",
    );
    assert!(ends.iter().all(|r| r.ends_with("|1")), "a run's end told twice: {ends:?}");
    assert_eq!(ends.len() as i64, count(w, "SELECT count(*) FROM runs"), "every run ended: {ends:?}");
    // One commit per task branch (the work, committed once), the base moved once per merge.
    let mut branch_commits = 0;
    for branch in sql(w, "SELECT branch FROM tasks WHERE branch IS NOT NULL AND status != 'done'") {
        assert_eq!(commits(w, &format!("main..{branch}")), 1, "{branch}: the work committed once");
        branch_commits += 1;
    }
    assert_eq!(commits(w, "main"), before.main + merged, "the base moved {merged} time(s)");
    // No orphan: nothing carries any run's token, no holder is left.
    let tokens: Vec<String> = sql(w, "SELECT token FROM runs").into_iter().map(|t| format!("BOSUN_RUN_TOKEN={t}")).collect();
    wait_for("no process carrying a run's token", || carrying(&tokens).is_empty().then_some(()));
    // (A holder leaves just after it told the exit.)
    wait_for("no holder left", || w.holders().is_empty().then_some(()));
    let runs = count(w, "SELECT count(*) FROM runs");
    let events = count(w, "SELECT count(*) FROM events");
    format!(
        "tasks {}, runs {runs}, events {events} gapless, agent lines {} once, branch commits {branch_commits}",
        before.tasks,
        lines.len()
    )
}

/// Pids of live processes whose environment holds one of `needles`.
fn carrying(needles: &[String]) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        if crate::harness::alive(i64::from(pid)) && environ.split(|&b| b == 0).any(|v| needles.iter().any(|n| n.as_bytes() == v)) {
            pids.push(pid);
        }
    }
    pids
}

/// A crash before the agent started: the next daemon finds the run live with no
/// holder, interrupts it, and a retry does the work once.
fn crash_before_the_agent(point: &str) {
    let mut w = World::new("app");
    worker(&w, None);
    w.start_with_env(&[], &[(CRASH, point)]);
    let id = add_racing_a_crash(&w, "Crash before the agent");
    w.wait_daemon_crashed();
    let before = before(&w);
    w.start(&[]);
    assert_eq!(w.task(id)["status"], "interrupted");
    w.bosun(&["retry", &id.to_string()]);
    w.wait_status(id, "review");
    let list = git(&w.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 2, "one worktree for the task: {list}");
    assert!(!list.contains("locked") && !list.contains("prunable"), "{list}");
    eprintln!("matrix: {point}: {}, retried to review", nothing_lost_nothing_doubled(&w, &before, 0));
}

#[test]
fn kill_9_once_the_run_is_stored() {
    crash_before_the_agent("run-stored");
}

#[test]
fn kill_9_once_the_worktree_is_made() {
    crash_before_the_agent("workspace-made");
}

/// Mid `git worktree add` (a post-checkout hook holds it open): the daemon dies, and
/// git with it as on a machine that went down; the next run repairs the half-made
/// worktree and does the work once.
#[test]
fn kill_9_mid_git_worktree_add() {
    let mut w = World::new("app");
    let hook = w.repo.join(".git/hooks/post-checkout");
    let pids = w.path("shared/hook.pids");
    std::fs::write(&hook, format!("#!/bin/sh\necho $$ $PPID > '{}'\nwhile :; do sleep 0.05; done\n", pids.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    worker(&w, None);
    w.start(&[]);
    let id = w.add("Crash in the checkout", "worker");
    let git_pids: Vec<i32> = wait_for("the hook to run", || {
        let v: Vec<i32> = std::fs::read_to_string(&pids).ok()?.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        (v.len() == 2).then_some(v)
    });
    w.kill_daemon();
    for pid in git_pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    std::fs::remove_file(&hook).unwrap();
    let before = before(&w);
    w.start(&[]);
    assert_eq!(w.task(id)["status"], "interrupted");
    w.bosun(&["retry", &id.to_string()]);
    w.wait_status(id, "review");
    let list = git(&w.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 2, "one worktree for the task: {list}");
    assert!(!list.contains("locked") && !list.contains("prunable"), "{list}");
    eprintln!("matrix: mid git worktree add: {}, retried to review", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// The agent started under its holder, its pid not yet recorded: the next daemon
/// takes the run back from the holder and it reaches review by itself.
#[test]
fn kill_9_once_the_agent_is_spawned() {
    let mut w = World::new("app");
    let gate = w.path("shared/go");
    worker(&w, Some(&gate));
    w.start_with_env(&[], &[(CRASH, "agent-spawned")]);
    let id = add_racing_a_crash(&w, "Crash at the spawn");
    w.wait_daemon_crashed();
    let before = before(&w);
    std::fs::write(&gate, "go").unwrap();
    w.start(&[]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 1, "resumed, not retried: {t}");
    eprintln!("matrix: agent-spawned: {}, resumed to review", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// Mid-run: the daemon dies while the agent works; the agent goes on under its
/// holder while no daemon listens, and the next daemon takes in every line once.
#[test]
fn kill_9_mid_run_with_the_holder_alive() {
    let mut w = World::new("app");
    let gate = w.path("shared/go");
    worker(&w, Some(&gate));
    w.start(&[]);
    let id = w.add("Crash mid-run", "worker");
    wait_for("the first lines", || (w.events(id).iter().filter(|e| e["type"] == "output").count() >= LINES).then_some(()));
    w.kill_daemon();
    let before = before(&w);
    std::fs::write(&gate, "go").unwrap();
    wait_for("the agent to finish while no daemon listens", || w.holders().is_empty().then_some(()));
    w.start(&[]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 1, "resumed, not retried: {t}");
    eprintln!("matrix: mid-run (holder alive): {}, resumed to review", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// Mid-run, everything dies at once (the daemon, the holder, the agent: a power cut):
/// the run is interrupted, what was stored stays, and a retry does the work once.
#[test]
fn kill_9_mid_run_with_everything_dead() {
    let mut w = World::new("app");
    let gate = w.path("shared/go");
    worker(&w, Some(&gate));
    w.start(&[]);
    let id = w.add("Power cut mid-run", "worker");
    wait_for("the first lines", || (w.events(id).iter().filter(|e| e["type"] == "output").count() >= LINES).then_some(()));
    w.kill_daemon();
    for pid in w.run_processes() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    wait_for("nothing of the run left", || w.run_processes().is_empty().then_some(()));
    let before = before(&w);
    std::fs::write(&gate, "go").unwrap();
    w.start(&[]);
    assert_eq!(w.task(id)["status"], "interrupted");
    w.bosun(&["retry", &id.to_string()]);
    w.wait_status(id, "review");
    eprintln!("matrix: mid-run (all dead): {}, retried to review", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// The run's final event is stored, its end is not: the next daemon finishes the run
/// from the holder's spool, once.
#[test]
fn kill_9_between_the_final_event_and_the_end_of_the_run() {
    let mut w = World::new("app");
    worker(&w, None);
    w.start_with_env(&[], &[(CRASH, "run-final-event")]);
    let id = add_racing_a_crash(&w, "Crash at the end");
    w.wait_daemon_crashed();
    let before = before(&w);
    w.start(&[]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 1, "finished, not retried: {t}");
    eprintln!("matrix: run-final-event: {}, finished in review", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// The base moved, the task is not yet done: the next start finishes the merge,
/// landing nothing twice.
#[test]
fn kill_9_mid_merge() {
    let mut w = World::new("app");
    worker(&w, None);
    w.start(&[]);
    let id = w.add("Merge me", "worker");
    w.wait_status(id, "review");
    w.stop_daemon();
    let unmerged = commits(&w, "main");
    w.start_with_env(&[], &[(CRASH, "merge-base-moved")]);
    let out = w.try_bosun(&["merge", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "the daemon died under the merge: {out:?}");
    w.wait_daemon_crashed();
    let before = before(&w);
    assert_eq!(before.main, unmerged + 1, "the base had moved");
    w.start(&[]);
    let t = w.wait_status(id, "done");
    assert!(t["status_reason"].as_str().unwrap_or_default().contains("already in main"), "{t}");
    assert_eq!(std::fs::read_to_string(w.repo.join("work.txt")).unwrap(), "work\n");
    // The base moved before the crash; nothing more after it.
    eprintln!("matrix: merge-base-moved: {}, finished as done", nothing_lost_nothing_doubled(&w, &before, 0));
}

/// A notification's delivery claimed (or sent and accepted), the daemon dead before it
/// recorded more: the next daemon sends it, under the same delivery id. Returns the
/// requests the receiver got.
fn kill_9_mid_notification(point: &str) -> (Vec<crate::notify::Got>, String) {
    let fake: Shared = Default::default();
    let ntfy = receiver(fake.clone());
    let mut w = World::new("app");
    worker(&w, None);
    w.start_with_env(&[], &[(CRASH, point)]);
    w.bosun(&["notify", "add", "ntfy", "--url", &format!("{ntfy}/t"), "--public-topic-ok"]);
    let id = w.add("Notify me", "worker");
    w.wait_daemon_crashed();
    let before = before(&w);
    w.start(&[]);
    w.wait_status(id, "review");
    wait_for("the delivery sent", || count(&w, "SELECT count(*) FROM deliveries WHERE state = 'sent'").eq(&1).then_some(()));
    assert_eq!(count(&w, "SELECT count(*) FROM deliveries"), 1, "one delivery");
    let summary = nothing_lost_nothing_doubled(&w, &before, 0);
    let all = got(&fake);
    let ids: std::collections::BTreeSet<&String> = all.iter().map(|g| &g.headers["x-bosun-delivery"]).collect();
    assert_eq!(ids.len(), 1, "every request is the one delivery: {ids:?}");
    (all, summary)
}

#[test]
fn kill_9_once_a_delivery_is_claimed() {
    let (all, summary) = kill_9_mid_notification("delivery-claimed");
    assert_eq!(all.len(), 1, "sent once, after the restart");
    eprintln!("matrix: delivery-claimed: {summary}, deliveries 1, requests {}", all.len());
}

/// The receiver accepted it, the daemon died before marking it sent: it goes again
/// with the same id (which the receiver can recognise: ntfy's `sequence_id`), once.
#[test]
fn kill_9_once_a_delivery_is_accepted() {
    let (all, summary) = kill_9_mid_notification("delivery-accepted");
    assert_eq!(all.len(), 2, "the accepted attempt, and its one repeat under the same id");
    assert!(all.iter().all(|g| g.json()["sequence_id"] == g.headers["x-bosun-delivery"].as_str()));
    eprintln!("matrix: delivery-accepted: {summary}, deliveries 1, requests {} (one repeat, same id)", all.len());
}
