//! The path from a task to its agent, kept lean (few git processes, facts remembered):
//! what it must still guarantee — git's own words when the worktree cannot be made,
//! a branch already there taken as it is, a checkout of another base seen at once.

use serde_json::json;

use crate::harness::{World, git};

#[test]
fn a_failed_worktree_creation_fails_the_task_with_gits_message() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("holder", None, &[json!({"wait_file": gate})]);
    w.agent("worker", None, &[json!({"say": "never"})]);
    git(&w.repo, &["branch", "feature"]);
    w.start(&["--max-concurrent", "1"]);
    let holder = w.add("Hold the slot", "holder");
    w.wait_status(holder, "running");
    let repo = w.repo.to_str().unwrap().to_string();
    let out = w.bosun(&["add", "--repo", &repo, "--base", "feature", "--agent", "worker", "--", "On feature"]);
    let id: i64 = out.lines().next().unwrap().trim().parse().unwrap();
    // The base goes away before the task starts: `git worktree add` refuses, in its words.
    git(&w.repo, &["branch", "-D", "feature"]);
    std::fs::write(&gate, "").unwrap();
    let t = w.wait_status(id, "failed");
    let reason = t["status_reason"].as_str().unwrap();
    assert!(reason.contains("cannot prepare the workspace") && reason.contains("invalid reference: feature"), "{reason}");
    assert!(!w.events(id).iter().any(|e| e["text"] == "never"), "no agent ran");
}

#[test]
fn a_task_branch_left_from_before_is_taken_and_the_current_branch_is_seen_at_once() {
    let mut w = World::new("app");
    w.agent("worker", None, &[json!({"write": {"path": "out.txt", "content": "done\n"}})]);
    w.start(&[]);
    let first = w.add("First", "worker");
    w.wait_status(first, "review");
    // The user switches the checkout to another branch: the next task (no --base) starts there.
    git(&w.repo, &["checkout", "-q", "-b", "other"]);
    std::fs::write(w.repo.join("other.txt"), "other\n").unwrap();
    git(&w.repo, &["add", "other.txt"]);
    git(&w.repo, &["commit", "-q", "-m", "other"]);
    // The branch the next task will get exists already (left by a store rolled back after a
    // power loss, say): the worktree is made on it as it is.
    let next = first + 1;
    git(&w.repo, &["branch", &format!("bosun/{next}-second"), "other"]);
    let second = w.add("Second", "worker");
    assert_eq!(second, next);
    let t = w.wait_status(second, "review");
    assert_eq!(t["base"], "other");
    let wt = std::path::PathBuf::from(t["worktree"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(wt.join("other.txt")).unwrap(), "other\n");
    assert_eq!(git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]), format!("bosun/{next}-second"));
}
