//! discard, rm and archive: giving up on a task removes its worktree and branch only
//! after saying what would be lost (asking on a terminal), leaves no task pointing at
//! nothing, and every later verb on it says why it cannot; archived tasks leave `ls`.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::{BOSUN, World, git};

/// A world with one task in review whose branch has a commit (2 files) and whose
/// worktree has an uncommitted file; returns the world, the task id and its worktree.
fn a_task_with_work() -> (World, i64, String) {
    let mut w = World::new("app");
    w.agent(
        "worker",
        None,
        &[json!({"write": {"path": "a.txt", "content": "a\n"}}), json!({"write": {"path": "b.txt", "content": "b\n"}})],
    );
    w.start(&[]);
    let id = w.add("Precious work", "worker");
    let wt = w.wait_status(id, "review")["worktree"].as_str().unwrap().to_string();
    std::fs::write(format!("{wt}/scratch.txt"), "not committed").unwrap();
    (w, id, wt)
}

fn branches(w: &World) -> String {
    git(&w.repo, &["branch", "--list", "bosun/*", "--format=%(refname:short)"])
}

#[test]
fn discard_refuses_without_yes_saying_what_would_be_lost() {
    let (w, id, wt) = a_task_with_work();
    let out = w.try_bosun(&["discard", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("1 commit on bosun/1-precious-work not in main (2 files changed)"), "{msg}");
    assert!(msg.contains("uncommitted changes (scratch.txt)") && msg.contains("--yes"), "{msg}");
    assert!(Path::new(&wt).join("scratch.txt").exists() && Path::new(&wt).join("a.txt").exists(), "nothing was removed");
    assert_eq!(w.task(id)["status"], "review");

    let loss = w.json(&["discard", &id.to_string(), "--yes"]);
    assert_eq!(loss["task"]["status"], "discarded", "{loss}");
    assert_eq!(loss["removed"].as_array().unwrap().len(), 2, "{loss}");
    assert!(!Path::new(&wt).exists());
    assert_eq!(branches(&w), "");
    assert!(w.events(id).iter().any(|e| e["type"] == "status" && e["status"] == "discarded"));

    // Nothing to lose: no question asked.
    w.agent("idle", None, &[json!({"say": "nothing to do"})]);
    let idle = w.add("Nothing really", "idle");
    w.wait_status(idle, "review");
    assert!(w.bosun(&["discard", &idle.to_string()]).contains(&format!("T-{idle} discarded")));
    let again = w.try_bosun(&["discard", &idle.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already discarded"));
}

#[test]
fn discard_asks_on_a_terminal() {
    let (w, id, wt) = a_task_with_work();
    // `script` gives the CLI a terminal; the answer comes through it.
    let discard = |answer: &str| {
        let mut child = Command::new("script")
            .args(["-qec", &format!("'{BOSUN}' discard {id}"), "/dev/null"])
            .env("BOSUN_URL", &w.url)
            .env("BOSUN_DATA_DIR", w.path("data"))
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = discard("n\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("T-1 has 1 commit on bosun/1-precious-work not in main (2 files changed)"), "{text}");
    assert!(text.contains("Discard them? [y/N]") && text.contains("T-1 was not discarded"), "{text}");
    assert!(Path::new(&wt).exists());
    assert_eq!(w.task(id)["status"], "review");

    let out = discard("y\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(w.task(id)["status"], "discarded");
    assert!(!Path::new(&wt).exists());
}

#[test]
fn rm_force_on_a_review_task_discards_it_and_later_verbs_say_why_not() {
    let (w, id, wt) = a_task_with_work();
    let out = w.json(&["rm", &id.to_string(), "--force"]);
    assert_eq!(out["task"]["status"], "discarded", "{out}");
    assert!(!Path::new(&wt).exists());
    assert_eq!(branches(&w), "");
    let id = id.to_string();
    for (verb, says) in [
        (vec!["merge", &id], "cannot merge a task that is discarded"),
        (vec!["reply", &id, "one more thing"], "cannot reopen a task that is discarded"),
        (vec!["retry", &id], "cannot retry a task that is discarded"),
        (vec!["rebase", &id], "has no worktree to rebase"),
        (vec!["pr", &id], "T-1 is discarded"),
        (vec!["rm", &id], "T-1 is discarded and has no worktree or branch to remove"),
    ] {
        let out = w.try_bosun(&verb);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{verb:?}: {msg}");
        assert!(msg.contains(says), "{verb:?}: {msg}");
        assert!(!msg.contains("`git ") && !msg.contains("fatal:"), "no raw git error for {verb:?}: {msg}");
    }
}

#[test]
fn archive_hides_finished_tasks_from_ls() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "{now_ns}.txt", "content": "x\n"}})]);
    w.start(&[]);
    let merged = w.add("Merged", "writer");
    let dropped = w.add("Dropped", "writer");
    let open = w.add("Still open", "writer");
    for id in [merged, dropped, open] {
        w.wait_status(id, "review");
    }
    w.bosun(&["merge", &merged.to_string()]);
    w.bosun(&["discard", &dropped.to_string(), "--yes"]);

    let out = w.try_bosun(&["archive", &merged.to_string(), &open.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("only done or discarded tasks can be archived: T-3 is in review"), "{msg}");
    assert!(w.task(merged)["archived_at"].is_null(), "refused as a whole");

    assert_eq!(w.json(&["archive", "--all"])["archived"], json!([merged, dropped]));
    let ids = |args: &[&str]| w.json(args).as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&["ls"]), vec![open]);
    assert_eq!(ids(&["ls", "--archived"]), vec![merged, dropped]);
    assert!(!w.bosun(&["ls"]).contains("Merged"));
    assert!(w.bosun(&["show", &merged.to_string()]).contains("archived:"));
    assert_eq!(w.bosun(&["archive", &merged.to_string()]).trim(), "nothing to archive");
}
