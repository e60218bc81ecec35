//! rm, gc, rebase and repos: nothing is lost, and moved bases can be caught up with.

use std::path::Path;

use serde_json::json;

use crate::harness::{World, git};

#[test]
fn rm_refuses_to_lose_work_unless_forced() {
    let mut w = World::new("app");
    w.agent("worker", None, &[json!({"write": {"path": "work.txt", "content": "precious\n"}})]);
    w.start(&[]);
    let id = w.add("Precious work", "worker");
    let t = w.wait_status(id, "review");
    let wt = t["worktree"].as_str().unwrap().to_string();
    std::fs::write(format!("{wt}/scratch.txt"), "not committed").unwrap();

    let out = w.try_bosun(&["rm", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("1 commit on bosun/1-precious-work not in main"), "{msg}");
    assert!(msg.contains("uncommitted changes (scratch.txt)"), "{msg}");
    assert!(Path::new(&wt).join("scratch.txt").exists() && Path::new(&wt).join("work.txt").exists());
    assert_eq!(git(&w.repo, &["branch", "--list", "bosun/*", "--format=%(refname:short)"]), "bosun/1-precious-work");

    let out = w.json(&["rm", &id.to_string(), "--force"]);
    assert_eq!(out["removed"].as_array().unwrap().len(), 2, "{out}");
    assert!(!Path::new(&wt).exists());
    assert_eq!(git(&w.repo, &["branch", "--list", "bosun/*"]), "");
    assert!(git(&w.repo, &["worktree", "list", "--porcelain"]).lines().filter(|l| l.starts_with("worktree ")).count() == 1);
    let out = w.try_bosun(&["rm", &id.to_string()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no worktree or branch to remove"));
}

#[test]
fn gc_removes_merged_and_abandoned_but_keeps_work() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "{now_ns}.txt", "content": "x\n"}})]);
    w.agent("quitter", None, &[json!({"exit": 1})]);
    w.agent("slow", None, &[json!({"write": {"path": "half.txt", "content": "half\n"}}), json!({"wait_file": w.path("shared/never")})]);
    w.start(&[]);
    let merged = w.add("Merged", "writer");
    let failed = w.add("Failed", "quitter");
    let stopped = w.add("Stopped", "slow");
    let review = w.add("In review", "writer");
    w.wait_status(merged, "review");
    w.bosun(&["merge", &merged.to_string()]); // squash: the branch is kept
    w.wait_status(failed, "failed");
    w.wait_status(review, "review");
    crate::harness::wait_for("the slow agent to write", || w.events(stopped).iter().any(|e| e["type"] == "file_change").then_some(()));
    w.bosun(&["stop", &stopped.to_string()]);

    let listed = w.json(&["gc"]);
    let action =
        |id: i64| listed.as_array().unwrap().iter().find(|i| i["task_id"] == id).map(|i| i["action"].as_str().unwrap().to_string());
    assert_eq!(action(merged).as_deref(), Some("remove"), "{listed}");
    assert_eq!(action(failed).as_deref(), Some("remove"), "{listed}");
    assert_eq!(action(stopped).as_deref(), Some("keep"), "{listed}");
    assert_eq!(action(review), None, "tasks in review are not garbage");
    let stopped_item = listed.as_array().unwrap().iter().find(|i| i["task_id"] == stopped).unwrap();
    assert!(stopped_item["reason"].as_str().unwrap().contains("1 commit "), "{stopped_item}");
    // Listing removed nothing.
    assert!(git(&w.repo, &["branch", "--list", "bosun/1-merged"]).contains("bosun/1-merged"));

    let removed = w.json(&["gc", "--yes"]);
    let action =
        |id: i64| removed.as_array().unwrap().iter().find(|i| i["task_id"] == id).map(|i| i["action"].as_str().unwrap().to_string());
    assert_eq!(action(merged).as_deref(), Some("removed"));
    assert_eq!(action(failed).as_deref(), Some("removed"));
    assert_eq!(action(stopped).as_deref(), Some("keep"));
    let branches = git(&w.repo, &["branch", "--list", "bosun/*", "--format=%(refname:short)"]);
    assert_eq!(branches.lines().collect::<Vec<_>>(), vec!["bosun/3-stopped", "bosun/4-in-review"]);
    let stopped_wt = w.task(stopped)["worktree"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(format!("{stopped_wt}/half.txt")).unwrap(), "half\n");
    assert_eq!(w.json(&["gc"]).as_array().unwrap().len(), 1, "only the kept one is left to list");
}

#[test]
fn rebase_catches_up_with_a_moved_base_or_leaves_conflicts() {
    let mut w = World::new("app");
    w.agent("feature", None, &[json!({"write": {"path": "feature.txt", "content": "feature\n"}})]);
    w.agent("readme", None, &[json!({"write": {"path": "README.md", "content": "# agent's readme\n"}})]);
    w.start(&[]);
    let clean = w.add("Feature", "feature");
    let conflicting = w.add("Readme", "readme");
    w.wait_status(clean, "review");
    w.wait_status(conflicting, "review");
    std::fs::write(w.repo.join("README.md"), "# the user's readme\n").unwrap();
    git(&w.repo, &["commit", "-qam", "user moves main"]);
    let main = git(&w.repo, &["rev-parse", "main"]);

    let out = w.json(&["rebase", &clean.to_string()]);
    assert_eq!(out["outcome"], "rebased");
    git(&w.repo, &["merge-base", "--is-ancestor", &main, "bosun/1-feature"]);
    assert_eq!(w.json(&["rebase", &clean.to_string()])["outcome"], "up_to_date");
    let merged = w.json(&["merge", &clean.to_string(), "--strategy", "rebase"]);
    assert_eq!(merged["task"]["status"], "done");
    assert_eq!(git(&w.repo, &["log", "--format=%s", "-2", "main"]), "bosun T-1: Feature\nuser moves main");

    let before = git(&w.repo, &["rev-parse", "bosun/2-readme"]);
    let out = w.try_bosun(&["rebase", &conflicting.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("stopped on conflicts in: README.md"), "{msg}");
    let wt = w.task(conflicting)["worktree"].as_str().unwrap().to_string();
    assert!(std::fs::read_to_string(format!("{wt}/README.md")).unwrap().contains("<<<<<<<"));
    assert!(w.task(conflicting)["status"] == "review");
    // The branch itself has not moved, and a merge is refused while the worktree is conflicted.
    assert_eq!(git(&w.repo, &["rev-parse", "bosun/2-readme"]), before);
    let out = w.try_bosun(&["merge", &conflicting.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is mid-rebase with conflicts in: README.md"));
    assert!(w.events(conflicting).iter().any(|e| e["status"] == "conflicted"));
}

#[test]
fn repos_lists_every_repo_with_counts() {
    let mut w = World::new("app");
    let other = w.path("other repo");
    std::fs::create_dir_all(&other).unwrap();
    git(&other, &["init", "-q", "-b", "trunk"]);
    git(&other, &["commit", "-q", "--allow-empty", "-m", "init"]);
    w.agent("quick", None, &[json!({"say": "hi"})]);
    w.start(&[]);
    w.add("One", "quick");
    w.add("Two", "quick");
    let id: i64 = w.bosun(&["add", "Three", "--agent", "quick", "--repo", other.to_str().unwrap()]).trim().parse().unwrap();
    let t = w.wait_status(id, "review");
    assert_eq!(t["base"], "trunk", "the base defaults to the repo's current branch");
    w.wait_status(1, "review");
    w.wait_status(2, "review");
    let repos = w.json(&["repos"]);
    assert_eq!(repos.as_array().unwrap().len(), 2);
    let app = repos.as_array().unwrap().iter().find(|r| r["repo"] == w.repo.to_str().unwrap()).unwrap();
    assert_eq!((app["tasks"].as_i64(), app["by_status"]["review"].as_i64()), (Some(2), Some(2)));
    let human = w.bosun(&["repos"]);
    assert!(human.contains("other repo  1 task: 1 review"), "{human}");
}
