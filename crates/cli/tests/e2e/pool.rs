//! The warm worktree pool: a task takes a worktree checked out ahead of it, at the
//! base's current head even when the base moved after the pool filled; two tasks
//! racing for the last one get different worktrees; a poolable setup runs once per
//! worktree; a kill -9 while a task claims one or while the pool refills is repaired
//! at the next start, and after `gc` no worktree, directory or branch is left that is
//! neither a task's nor a ready pool entry's.
//!
//! Which worktree a task got is read from git itself: a worktree's `.git` file names
//! its registration, named after the directory it was first checked out in — a pool
//! entry's id for a warm one, the task's `<id>-<slug>` for one made cold.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{World, git, wait_for};
use crate::matrix::{count, sql};

const CRASH: &str = "BOSUN_TEST_CRASH_AT";

/// A world whose repo keeps `size` warm worktrees (`.bosun/config.toml`), with a
/// poolable setup script that records where it ran when `setup` is set.
fn pooled(size: usize, setup: bool) -> World {
    let w = World::new("app");
    let bosun = w.repo.join(".bosun");
    std::fs::create_dir_all(&bosun).unwrap();
    let poolable = if setup { "\n[setup]\npoolable = true\n" } else { "" };
    std::fs::write(bosun.join("config.toml"), format!("[pool]\nsize = {size}\n{poolable}")).unwrap();
    if setup {
        let runs = w.path("shared/setup-runs");
        let script = bosun.join("setup");
        std::fs::write(&script, format!("#!/bin/sh\necho \"$PWD\" >> '{}'\necho set up\n", runs.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The agent reports the commit it started on, then leaves one file of work.
    w.agent("worker", None, &[json!({"run": ["git", "rev-parse", "HEAD"]}), json!({"write": {"path": "work.txt", "content": "work\n"}})]);
    w
}

/// Ready pool entries' paths, once `n` are ready and none is being made or moved.
fn pool_ready(w: &World, n: i64) -> Vec<String> {
    wait_for("the pool to be ready", || {
        let settled = count(w, "SELECT count(*) FROM pool_worktrees WHERE state != 'ready'") == 0;
        (settled && count(w, "SELECT count(*) FROM pool_worktrees WHERE state = 'ready'") == n).then_some(())
    });
    sql(w, "SELECT path FROM pool_worktrees ORDER BY id")
}

/// The name of the registration a worktree's `.git` file points to.
fn registration(worktree: &str) -> String {
    let dotgit = std::fs::read_to_string(Path::new(worktree).join(".git")).unwrap();
    dotgit.trim().rsplit('/').next().unwrap().to_string()
}

fn basename(path: &str) -> String {
    Path::new(path).file_name().unwrap().to_string_lossy().into_owned()
}

/// The commit the task's agent started on.
fn started_on(w: &World, id: i64) -> String {
    let events = w.events(id);
    let result = events.iter().find(|e| e["type"] == "tool_result").unwrap_or_else(|| panic!("{events:#?}"));
    result["output"].as_str().unwrap().trim().to_string()
}

fn ran_setup_itself(w: &World, id: i64) -> bool {
    w.events(id).iter().any(|e| e["type"] == "status" && e["status"] == "hook")
}

/// After `gc --yes`: every worktree git knows is the repo's checkout, a task's or a
/// ready pool entry's, none half-made; every directory under `pool/` is a ready
/// entry's; every branch but main is a task's.
fn nothing_orphaned(w: &World) {
    w.bosun(&["gc", "--yes"]);
    let tasks: Vec<Value> = (1..=count(w, "SELECT max(id) FROM tasks")).map(|id| w.task(id)).collect();
    let pool = sql(w, "SELECT path FROM pool_worktrees WHERE state = 'ready'");
    assert_eq!(count(w, "SELECT count(*) FROM pool_worktrees"), pool.len() as i64, "only ready entries are left");
    let list = git(&w.repo, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("locked") && !list.contains("prunable"), "{list}");
    let repo = std::fs::canonicalize(&w.repo).unwrap();
    for path in list.lines().filter_map(|l| l.strip_prefix("worktree ")) {
        let known = Path::new(path) == repo
            || tasks.iter().any(|t| t["worktree"].as_str().and_then(|w| std::fs::canonicalize(w).ok()).as_deref() == Some(Path::new(path)))
            || pool.iter().any(|p| std::fs::canonicalize(p).ok().as_deref() == Some(Path::new(path)));
        assert!(known, "{path} is neither the checkout, a task's nor the pool's: {list}");
    }
    for dir in std::fs::read_dir(w.path("data/pool")).unwrap().flatten() {
        let dir = dir.path().to_string_lossy().into_owned();
        assert!(pool.contains(&dir), "{dir} is under pool/ but no ready entry's ({pool:?})");
    }
    for branch in git(&w.repo, &["branch", "--format=%(refname:short)"]).lines() {
        let known = branch == "main" || tasks.iter().any(|t| t["branch"].as_str() == Some(branch));
        assert!(known, "branch {branch} is no task's");
    }
}

#[test]
fn a_task_takes_a_warm_worktree_at_the_bases_current_head() {
    let mut w = pooled(1, false);
    w.start(&[]);
    // The first task in a repo starts cold; once its agent runs, the pool fills.
    let first = w.add("First", "worker");
    w.wait_status(first, "review");
    let pool = pool_ready(&w, 1);
    // The base moves after the pool filled.
    std::fs::write(w.repo.join("new.txt"), "new\n").unwrap();
    git(&w.repo, &["add", "new.txt"]);
    git(&w.repo, &["commit", "-qm", "moved on"]);
    let head = git(&w.repo, &["rev-parse", "main"]);

    let second = w.add("Second", "worker");
    let t = w.wait_status(second, "review");
    let worktree = t["worktree"].as_str().unwrap();
    assert!(worktree.ends_with("/data/worktrees/2-second"), "in the task's own place: {t}");
    assert_eq!(registration(worktree), basename(&pool[0]), "the pool's worktree, moved into place");
    assert_eq!(started_on(&w, second), head, "started from the base's current head, not the pool's old one");
    assert_eq!(git(&w.repo, &["rev-parse", "bosun/2-second~1"]), head, "the task branch starts at the head");
    assert_eq!(git(&w.repo, &["rev-list", "--count", "main..bosun/2-second"]), "1", "its work, committed once");
    // Refilled after the agent started, at the new head.
    let refilled = pool_ready(&w, 1);
    assert_ne!(refilled[0], pool[0]);
    assert_eq!(sql(&w, "SELECT head FROM pool_worktrees")[..], [head.as_str()]);
    assert_eq!(git(Path::new(&refilled[0]), &["rev-parse", "HEAD"]), head);
    nothing_orphaned(&w);
}

#[test]
fn two_tasks_racing_for_the_last_warm_worktree_get_different_ones_and_setup_runs_once_per_worktree() {
    let mut w = pooled(1, true);
    w.start(&[]);
    let first = w.add("First", "worker");
    w.wait_status(first, "review");
    assert!(ran_setup_itself(&w, first), "a cold start runs the setup in the task");
    let pool = pool_ready(&w, 1);

    let (a, b) = (w.add("Racer a", "worker"), w.add("Racer b", "worker"));
    let (ta, tb) = (w.wait_status(a, "review"), w.wait_status(b, "review"));
    let (wa, wb) = (ta["worktree"].as_str().unwrap(), tb["worktree"].as_str().unwrap());
    assert_ne!(wa, wb);
    let warm: Vec<i64> = [(a, wa), (b, wb)].iter().filter(|(_, wt)| registration(wt) == basename(&pool[0])).map(|(id, _)| *id).collect();
    assert_eq!(warm.len(), 1, "exactly one racer got the warm worktree: {ta} {tb}");
    for (id, wt) in [(a, wa), (b, wb)] {
        let is_warm = warm == [id];
        assert_eq!(ran_setup_itself(&w, id), !is_warm, "task {id}: the setup ran in the pool, not again in the task");
        assert_eq!(registration(wt) == basename(wt), !is_warm, "the other made its own: {wt}");
    }
    pool_ready(&w, 1);
    // Each worktree ever made ran the setup exactly once (the pool's where they were made).
    let runs = std::fs::read_to_string(w.path("shared/setup-runs")).unwrap();
    let mut lines: Vec<&str> = runs.lines().collect();
    let made = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), made, "a worktree's setup ran twice: {runs}");
    let pool_runs = lines.iter().filter(|l| l.contains("/data/pool/")).count();
    assert_eq!(made - pool_runs, 2, "the setup ran in the two cold tasks only: {runs}");
    assert!(lines.iter().any(|l| *l == pool[0].as_str()), "the warm one ran it where the pool made it: {runs}");
    nothing_orphaned(&w);
}

/// A kill -9 at `point` of a task's claim: the next daemon discards the half-claimed
/// worktree, the task is interrupted, and its retry starts cold and does the work once.
fn crash_in_a_claim(point: &str) {
    let mut w = pooled(1, false);
    w.start_with_env(&[], &[(CRASH, point)]);
    let first = w.add("First", "worker");
    w.wait_status(first, "review");
    let pool = pool_ready(&w, 1);
    let second = w.add("Second", "worker");
    w.wait_daemon_crashed();
    assert_eq!(sql(&w, "SELECT state FROM pool_worktrees"), ["claimed"]);
    w.start(&[]);
    assert!(!Path::new(&pool[0]).exists(), "the half-claimed worktree is gone");
    assert_eq!(w.task(second)["status"], "interrupted");
    w.bosun(&["retry", &second.to_string()]);
    let t = w.wait_status(second, "review");
    let worktree = t["worktree"].as_str().unwrap();
    assert_eq!(registration(worktree), "2-second", "the retry made its own worktree: {t}");
    assert_eq!(started_on(&w, second), git(&w.repo, &["rev-parse", "main"]));
    assert_eq!(git(&w.repo, &["rev-list", "--count", "main..bosun/2-second"]), "1", "the work, committed once");
    pool_ready(&w, 1);
    nothing_orphaned(&w);
}

#[test]
fn kill_9_once_a_claim_is_stored() {
    crash_in_a_claim("pool-claimed");
}

#[test]
fn kill_9_once_a_claimed_worktree_has_its_branch() {
    crash_in_a_claim("pool-branched");
}

/// A kill -9 mid refill (the checkout made, the entry not ready): the next daemon
/// discards it, fills the pool again, and the next task takes a whole one.
#[test]
fn kill_9_while_the_pool_refills() {
    let mut w = pooled(1, false);
    w.start_with_env(&[], &[(CRASH, "pool-made")]);
    let first = w.add("First", "worker");
    w.wait_daemon_crashed();
    assert_eq!(sql(&w, "SELECT state FROM pool_worktrees"), ["making"]);
    let half = sql(&w, "SELECT path FROM pool_worktrees")[0].clone();
    w.start(&[]);
    w.wait_status(first, "review");
    let pool = pool_ready(&w, 1);
    assert_ne!(pool[0], half, "the half-made one was discarded, a new one made");
    assert!(!Path::new(&half).exists());
    let second = w.add("Second", "worker");
    let t = w.wait_status(second, "review");
    assert_eq!(registration(t["worktree"].as_str().unwrap()), basename(&pool[0]), "took the whole one: {t}");
    pool_ready(&w, 1);
    nothing_orphaned(&w);
}
