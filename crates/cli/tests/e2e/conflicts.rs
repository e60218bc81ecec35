//! No agent runs in a worktree a rebase left conflicted unless it is asked to resolve
//! it (`reply --resolve`), and bosun never commits conflict markers or on a detached
//! HEAD: real repos, a real conflicting rebase, the real binary.

use serde_json::{Value, json};

use crate::harness::{World, git};

const BRANCH: &str = "bosun/1-edit-the-readme";

/// A task in review whose worktree `bosun rebase` left mid-rebase, conflicting in README.md.
pub(crate) fn a_task_left_mid_rebase() -> (World, String) {
    let mut w = World::new("app");
    w.agent("readme", None, &[json!({"write": {"path": "README.md", "content": "# the agent's readme\n"}})]);
    w.start(&[]);
    let id = w.add("Edit the readme", "readme");
    let wt = w.wait_status(id, "review")["worktree"].as_str().unwrap().to_string();
    std::fs::write(w.repo.join("README.md"), "# the user's readme\n").unwrap();
    git(&w.repo, &["commit", "-qam", "the user edits the readme"]);
    let out = w.try_bosun(&["rebase", "1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped on conflicts in: README.md"));
    (w, wt)
}

/// Runs a verb expected to be refused; returns its stderr.
fn refused(w: &World, args: &[&str]) -> String {
    let out = w.try_bosun(args);
    let msg = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {msg}");
    msg
}

fn error_events(w: &World) -> Vec<String> {
    w.events(1).iter().filter(|e| e["type"] == "error").map(|e| e["message"].as_str().unwrap().to_string()).collect()
}

#[test]
fn no_run_starts_in_a_conflicted_worktree_and_markers_are_never_committed() {
    let (w, wt) = a_task_left_mid_rebase();
    let (tip, head) = (git(&w.repo, &["rev-parse", BRANCH]), git(std::path::Path::new(&wt), &["rev-parse", "HEAD"]));

    // Refused at the door, naming the files and what to do.
    let msg = refused(&w, &["reply", "1", "also mention the licence"]);
    assert!(msg.contains(&format!("T-1's worktree {wt} is mid-rebase with conflicts in: README.md")), "{msg}");
    assert!(msg.contains("git rebase --continue") && msg.contains("bosun reply 1 --resolve"), "{msg}");
    assert!(refused(&w, &["say", "1", "hello?"]).contains("mid-rebase with conflicts in: README.md"));
    let t = w.task(1);
    assert_eq!((t["status"].as_str(), t["runs"].as_array().unwrap().len()), (Some("review"), 1), "no run started");

    // Asked to resolve, the agent hears which files; it leaves the markers: the run
    // fails saying so, and nothing is committed, on the branch or the detached HEAD.
    w.agent("readme", None, &[json!({"echo_env": ["BOSUN_PROMPT"]}), json!({"say": "I looked at it"})]);
    w.bosun(&["reply", "1", "--resolve", "keep both readmes"]);
    let t = w.wait_status(1, "failed");
    let why = "conflict markers remain in: README.md; bosun committed nothing";
    assert_eq!(t["status_reason"], why, "{t}");
    assert!(error_events(&w).iter().any(|m| m == why));
    let prompt = w.events(1).iter().filter_map(|e| e["text"].as_str().map(str::to_owned)).find(|t| t.starts_with("BOSUN_PROMPT=")).unwrap();
    assert!(prompt.contains("keep both readmes") && prompt.contains("mid-rebase") && prompt.contains("- README.md"), "{prompt}");
    assert_eq!(git(&w.repo, &["rev-parse", BRANCH]), tip);
    assert_eq!(git(std::path::Path::new(&wt), &["rev-parse", "HEAD"]), head);
    assert!(std::fs::read_to_string(format!("{wt}/README.md")).unwrap().contains("<<<<<<<"));

    // Retrying is refused at the door too.
    assert!(refused(&w, &["retry", "1"]).contains("mid-rebase with conflicts in: README.md"));
}

#[test]
fn a_resolve_run_that_resolves_finishes_the_rebase_and_the_task_is_merged() {
    let (w, wt) = a_task_left_mid_rebase();
    let identity = ["git", "-c", "user.name=fake-agent", "-c", "user.email=fake@localhost"];
    let cont: Vec<&str> = identity.iter().copied().chain(["-c", "core.editor=true", "rebase", "--continue"]).collect();
    w.agent(
        "readme",
        None,
        &[
            json!({"write": {"path": "README.md", "content": "# both readmes\n"}}),
            json!({"run": ["git", "add", "README.md"]}),
            json!({"run": cont}),
        ],
    );
    w.bosun(&["reply", "1", "--resolve", "keep both readmes"]);
    w.wait_status(1, "review");
    assert_eq!(git(std::path::Path::new(&wt), &["symbolic-ref", "--short", "HEAD"]), BRANCH, "back on the branch");
    git(&w.repo, &["merge-base", "--is-ancestor", "main", BRANCH]);
    assert!(refused(&w, &["reply", "1", "--resolve", "again"]).contains("no conflicts to resolve"));
    let merged: Value = w.json(&["merge", "1"]);
    assert_eq!(merged["result"], "merged", "{merged}");
    assert_eq!(std::fs::read_to_string(w.repo.join("README.md")).unwrap(), "# both readmes\n");
}

#[test]
fn bosun_never_commits_on_a_detached_head() {
    let mut w = World::new("app");
    w.agent(
        "detacher",
        None,
        &[json!({"run": ["git", "checkout", "-q", "--detach"]}), json!({"write": {"path": "loose.txt", "content": "work\n"}})],
    );
    w.start(&[]);
    let id = w.add("Wander off", "detacher");
    let t = w.wait_status(id, "failed");
    let why = "the worktree's HEAD is detached, not on the task's branch `bosun/1-wander-off`; bosun committed nothing";
    assert_eq!(t["status_reason"], why, "{t}");
    assert!(error_events(&w).iter().any(|m| m == why));
    assert_eq!(git(&w.repo, &["rev-list", "--count", "bosun/1-wander-off"]), "1", "nothing committed on the branch");
    let wt = t["worktree"].as_str().unwrap();
    assert_eq!(git(std::path::Path::new(wt), &["rev-list", "--count", "HEAD"]), "1", "nor on the detached HEAD");
    assert_eq!(std::fs::read_to_string(format!("{wt}/loose.txt")).unwrap(), "work\n", "the work is still there");
}
