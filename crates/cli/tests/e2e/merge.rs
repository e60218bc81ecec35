//! Merges with nothing to land: a branch whose change is already on the base and a
//! branch with no change both finish their task saying so, and no strategy ever makes
//! an empty commit.

use serde_json::json;

use crate::harness::{World, git};

/// The agent writes `feature.txt`; the user lands the very same file on main first.
fn a_task_whose_change_is_already_on_main() -> (World, i64) {
    let mut w = World::new("app");
    w.agent("feature", None, &[json!({"write": {"path": "feature.txt", "content": "feature\n"}})]);
    w.start(&[]);
    let id = w.add("Add the feature", "feature");
    w.wait_status(id, "review");
    std::fs::write(w.repo.join("feature.txt"), "feature\n").unwrap();
    git(&w.repo, &["add", "feature.txt"]);
    git(&w.repo, &["commit", "-qm", "the same feature, landed by hand"]);
    (w, id)
}

#[test]
fn a_branch_already_in_base_finishes_the_task() {
    let (w, id) = a_task_whose_change_is_already_on_main();
    let main = git(&w.repo, &["rev-parse", "main"]);
    let out = w.bosun(&["merge", &id.to_string()]);
    assert!(out.contains(&format!("T-{id} done: already in main, nothing to merge")), "{out}");
    let t = w.task(id);
    assert_eq!(t["status"], "done");
    assert_eq!(t["status_reason"], "already in main: nothing to merge");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main, "nothing was committed on main");
}

#[test]
fn a_branch_with_no_changes_finishes_the_task_saying_so() {
    let mut w = World::new("app");
    w.agent("idle", None, &[json!({"say": "looked around, nothing to change"})]);
    w.start(&[]);
    let id = w.add("Maybe fix something", "idle");
    w.wait_status(id, "review");
    let main = git(&w.repo, &["rev-parse", "main"]);
    let out = w.json(&["merge", &id.to_string()]);
    assert_eq!(out["result"], "no_changes", "{out}");
    assert!(out["commit"].is_null(), "{out}");
    assert_eq!(out["task"]["status"], "done");
    assert!(out["task"]["status_reason"].as_str().unwrap().starts_with("no changes"), "{out}");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main);
    assert_eq!(git(&w.repo, &["branch", "--list", "bosun/*"]), "", "the empty branch is cleaned up");
}

#[test]
fn strategy_merge_never_makes_an_empty_merge_commit() {
    let (w, id) = a_task_whose_change_is_already_on_main();
    let main = git(&w.repo, &["rev-parse", "main"]);
    let out = w.json(&["merge", &id.to_string(), "--strategy", "merge"]);
    assert_eq!(out["result"], "already_in_base", "{out}");
    assert_eq!(out["task"]["status"], "done");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main, "no merge commit");
    assert_eq!(git(&w.repo, &["rev-list", "--count", "--merges", "main"]), "0");
}

/// Runs `stmt` on the daemon's database with the sqlite3 CLI (reaching into the store
/// to make a write fail where a crash would cut in).
fn sqlite(db: &std::path::Path, stmt: &str) {
    let out = std::process::Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(db).arg(stmt).output().expect("sqlite3 runs");
    assert!(out.status.success(), "{out:?}");
}

/// A merge cut off inside its window — the base has moved, but the task could not be
/// marked done (here the store refuses the write, as a kill -9 at that moment would
/// leave it): the task stays in review, and the next `merge` finishes it ("already in
/// main") without landing anything twice.
#[test]
fn a_merge_cut_off_after_the_base_moved_is_finished_by_the_next_merge() {
    let mut w = World::new("app");
    w.agent("feature", None, &[json!({"write": {"path": "feature.txt", "content": "feature\n"}})]);
    w.start(&[]);
    let id = w.add("Add the feature", "feature");
    w.wait_status(id, "review");
    let before: u32 = git(&w.repo, &["rev-list", "--count", "main"]).parse().unwrap();
    let db = w.path("data/bosun.db");
    let sql = |stmt: &str| sqlite(&db, stmt);
    sql("CREATE TRIGGER cut BEFORE UPDATE OF status ON tasks WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'cut off (test)'); END;");
    let out = w.try_bosun(&["merge", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("sqlx") && !said.contains("returned from database"), "no raw store error: {said}");
    assert!(said.contains("is merged into main as") && said.contains(&format!("`bosun merge {id}` again finishes it")), "{said}");
    let moved: u32 = git(&w.repo, &["rev-list", "--count", "main"]).parse().unwrap();
    assert_eq!(moved, before + 1, "the base moved before the task could be marked done");
    assert_eq!(w.task(id)["status"], "review");

    sql("DROP TRIGGER cut;");
    let out = w.bosun(&["merge", &id.to_string()]);
    assert!(out.contains("already in main"), "{out}");
    assert_eq!(w.task(id)["status"], "done");
    let after: u32 = git(&w.repo, &["rev-list", "--count", "main"]).parse().unwrap();
    assert_eq!(after, moved, "nothing landed twice");
}

/// The same window closed by a crash: the daemon dies after the base moved and before
/// the task was marked done. The next start finishes the merge by itself, landing
/// nothing twice.
#[test]
fn a_merge_cut_off_by_a_crash_is_finished_at_the_next_start() {
    let mut w = World::new("app");
    w.agent("feature", None, &[json!({"write": {"path": "feature.txt", "content": "feature\n"}})]);
    w.start(&[]);
    let id = w.add("Add the feature", "feature");
    w.wait_status(id, "review");
    let db = w.path("data/bosun.db");
    let sql = |stmt: &str| sqlite(&db, stmt);
    sql("CREATE TRIGGER cut BEFORE UPDATE OF status ON tasks WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'cut off (test)'); END;");
    let out = w.try_bosun(&["merge", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let moved: u32 = git(&w.repo, &["rev-list", "--count", "main"]).parse().unwrap();
    w.kill_daemon();
    sql("DROP TRIGGER cut;");

    w.start(&[]);
    let task = w.wait_status(id, "done");
    assert!(task["status_reason"].as_str().unwrap_or_default().contains("already in main"), "{task}");
    let after: u32 = git(&w.repo, &["rev-list", "--count", "main"]).parse().unwrap();
    assert_eq!(after, moved, "nothing landed twice");
    assert_eq!(std::fs::read_to_string(w.repo.join("feature.txt")).unwrap(), "feature\n");
}
