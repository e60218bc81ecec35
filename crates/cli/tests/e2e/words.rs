//! What bosun says matches what works: advice a verb gives is advice that another verb
//! accepts, a mid-rebase worktree is not called "uncommitted changes", paths and ids
//! are refused in bosun's own words, and messages are plain English.

use std::process::Command;

use serde_json::json;

use crate::harness::{BOSUN, World, git};

fn refused(w: &World, args: &[&str]) -> String {
    let out = w.try_bosun(args);
    let msg = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {msg}");
    msg
}

#[test]
fn say_to_a_task_whose_agent_is_gone_gives_advice_that_works() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "{now_ns}.txt", "content": "x\n"}})]);
    w.start(&[]);
    let (review, dropped, merged) = (w.add("Review me", "writer"), w.add("Drop me", "writer"), w.add("Merge me", "writer"));
    for id in [review, dropped, merged] {
        w.wait_status(id, "review");
    }
    w.bosun(&["discard", &dropped.to_string(), "--yes"]);
    w.bosun(&["merge", &merged.to_string()]);

    for id in [dropped, merged] {
        let status = w.task(id)["status"].as_str().unwrap().to_string();
        let msg = refused(&w, &["say", &id.to_string(), "hi"]);
        assert!(msg.contains(&format!("T-{id} is {status}: it cannot be continued")), "{msg}");
        assert!(!msg.contains("bosun reply"), "reply refuses a {status} task, so say does not point to it: {msg}");
        assert!(refused(&w, &["reply", &id.to_string(), "hi"]).contains(&format!("cannot reopen a task that is {status}")));
    }

    // In review: say points to reply, in English, and reply does what it says.
    let msg = refused(&w, &["say", &review.to_string(), "hi"]);
    assert!(msg.contains(&format!("T-{review} is in review: its agent is not running; `bosun reply {review}")), "{msg}");
    w.bosun(&["reply", &review.to_string(), "hi"]);
    w.wait_status(review, "review");
    assert!(refused(&w, &["retry", &review.to_string()]).contains("cannot retry a task that is in review"));
}

#[test]
fn merge_of_a_worktree_left_mid_rebase_says_how_to_finish_it() {
    let (w, wt) = crate::conflicts::a_task_left_mid_rebase();

    let msg = refused(&w, &["merge", "1"]);
    assert!(msg.contains(&format!("T-1's worktree {wt} is mid-rebase with conflicts in: README.md")), "{msg}");
    assert!(msg.contains("git rebase --continue") && msg.contains("bosun reply 1 --resolve"), "{msg}");
    assert!(!msg.contains("commit or discard"), "committing conflict markers is not the advice: {msg}");
    assert_eq!(w.task(1)["status"], "review");
}

#[test]
fn a_path_that_is_not_there_is_refused_in_one_clear_line() {
    let mut w = World::new("app");
    w.start(&[]);
    for args in [vec!["add", "x", "--repo", "/nonexistent"], vec!["rules", "--repo", "/nonexistent"], vec!["ls", "--repo", "/nonexistent"]]
    {
        let msg = refused(&w, &args);
        assert_eq!(msg.trim(), "bosun: not a git repository: /nonexistent", "{args:?}");
    }
    // The daemon says the same of a directory that is there but is no repo.
    let plain = w.path("shared");
    let msg = refused(&w, &["add", "x", "--repo", plain.to_str().unwrap()]);
    assert!(msg.contains(&format!("not a git repository: {}", plain.display())), "{msg}");
}

#[test]
fn gc_says_what_it_found_and_exactly_what_it_removed() {
    let mut w = World::new("app");
    w.agent("quitter", None, &[json!({"exit": 1})]);
    w.start(&[]);
    let id = w.add("Give up", "quitter");
    let wt = w.wait_status(id, "failed")["worktree"].as_str().unwrap().to_string();
    git(&w.repo, &["worktree", "remove", &wt]);

    let listed = w.bosun(&["gc"]);
    assert!(listed.contains("(failed, nothing unmerged or uncommitted)"), "{listed}");
    assert!(!listed.contains("abandoned") && !listed.contains(&wt), "{listed}");
    let removed = w.bosun(&["gc", "--yes"]);
    assert_eq!(removed.trim(), "T-1 deleted branch bosun/1-give-up", "only the branch was there to remove");
}

#[test]
fn usage_errors_are_clap_errors_that_say_what_is_valid() {
    let mut w = World::new("app");
    w.start(&[]);
    // BOSUN_URL is set (as try_bosun does): it is not a required `--server`.
    let out = w.try_bosun(&["archive"]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("Usage: bosun archive <IDS>...") && !msg.contains("--server"), "{msg}");

    let out = w.try_bosun(&["ls", "--status", "running,bogus"]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("invalid value 'bogus'") && msg.contains("review") && msg.contains("needs_input"), "{msg}");
    assert_eq!(w.json(&["ls", "--status", "review,done"]), json!([]));
}

#[test]
fn add_without_repo_inside_a_repo_with_profiles_says_to_pass_it() {
    let mut w = World::new("app");
    w.start(&[]);
    std::fs::create_dir_all(w.repo.join(".bosun/agents")).unwrap();
    std::fs::write(w.repo.join(".bosun/agents/local.md"), "---\nname: local\nruntime: command\ncommand: [\"true\"]\n---\n").unwrap();
    let add = |dir: &std::path::Path| {
        let out = Command::new(BOSUN)
            .args(["add", "x"])
            .current_dir(dir)
            .env("BOSUN_URL", &w.url)
            .env("BOSUN_DATA_DIR", w.path("data"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let msg = add(&w.repo);
    assert!(msg.contains("no agent profile matches this task"), "{msg}");
    assert!(msg.trim_end().ends_with("(this directory's repo has profiles: pass --repo .)"), "{msg}");
    assert!(!add(&w.path("shared")).contains("pass --repo"), "no hint outside a repo with profiles");
}
