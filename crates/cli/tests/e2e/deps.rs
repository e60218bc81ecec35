//! Task dependencies: ordering, cycles, blocking and unblocking.

use serde_json::json;

use crate::harness::World;

fn add_after(w: &World, title: &str, agent: &str, after: &[i64]) -> i64 {
    let mut args = vec!["add".to_string(), "--repo".into(), w.repo.to_str().unwrap().into(), "--agent".into(), agent.into()];
    for a in after {
        args.push("--after".into());
        args.push(a.to_string());
    }
    args.push("--".into());
    args.push(title.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    w.bosun(&args).trim().parse().unwrap()
}

#[test]
fn a_task_starts_only_when_its_dependencies_are_done() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("gated", None, &[json!({"wait_file": gate}), json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.agent("quick", None, &[json!({"run": ["sh", "-c", "echo $BOSUN_TASK_ID > t$BOSUN_TASK_ID.txt"]})]);
    w.start(&[]);
    let first = w.add("First", "gated");
    let second = w.add("Second", "quick");
    let third = add_after(&w, "Docs", "quick", &[first, second]);
    assert_eq!(w.task(third)["after"], json!([first, second]));
    w.wait_status(second, "review");
    assert_eq!(w.task(third)["status"], "queued", "T-1 is still running");
    std::fs::write(&gate, "").unwrap();
    w.wait_status(first, "review");
    w.bosun(&["merge", &second.to_string()]);
    assert_eq!(w.task(third)["status"], "queued", "review is not done: T-1 is not merged yet");
    assert!(w.task(third)["runs"].as_array().unwrap().is_empty());
    w.bosun(&["merge", &first.to_string()]);
    let t = w.wait_status(third, "review");
    // Its worktree was made from the base branch when it started: with both merged.
    let wt = t["worktree"].as_str().unwrap();
    assert!(std::path::Path::new(&format!("{wt}/a.txt")).exists(), "the dependency's work is in the dependent's worktree");

    // Unknown dependencies are refused.
    let out = w.try_bosun(&["add", "x", "--agent", "quick", "--after", "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dependency T-99 does not exist"));
}

#[test]
fn cycles_are_refused_with_the_cycle_named() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("gated", None, &[json!({"wait_file": gate})]);
    w.start(&[]);
    let a = w.add("A", "gated");
    let b = add_after(&w, "B", "gated", &[a]);
    let c = add_after(&w, "C", "gated", &[b]);
    // A is running; make a queued one wait on its own dependent instead.
    let out = w.try_bosun(&["after", &b.to_string(), &c.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), format!("bosun: dependency cycle: T-{b} -> T-{c} -> T-{b}"));
    let out = w.try_bosun(&["after", &b.to_string(), &b.to_string()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("T-{b} -> T-{b}")));
    assert_eq!(w.task(b)["after"], json!([a]), "nothing was added");
    std::fs::write(&gate, "").unwrap();
}

#[test]
fn a_failed_dependency_blocks_and_retry_unblocks() {
    let mut w = World::new("app");
    w.agent("crasher", None, &[json!({"exit": 1})]);
    w.agent("quick", None, &[json!({"say": "ok"})]);
    w.start(&[]);
    let dep = w.add("Migrate", "crasher");
    let child = add_after(&w, "Use the migration", "quick", &[dep]);
    let grandchild = add_after(&w, "Document it", "quick", &[child]);
    w.wait_status(dep, "failed");
    let t = w.wait_status(child, "blocked");
    assert_eq!(t["status_reason"], format!("dependency T-{dep} is failed"));
    let t = w.wait_status(grandchild, "blocked");
    assert_eq!(t["status_reason"], format!("dependency T-{child} is blocked"));

    w.bosun(&["retry", &dep.to_string(), "--agent", "quick"]);
    w.wait_status(child, "queued");
    w.wait_status(grandchild, "queued");
    w.wait_status(dep, "review");
    w.bosun(&["merge", &dep.to_string()]);
    w.wait_status(child, "review");
    assert_eq!(w.task(grandchild)["status"], "queued");
}
