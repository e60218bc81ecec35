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
