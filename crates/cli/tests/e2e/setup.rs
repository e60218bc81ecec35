//! Repo setup and cleanup scripts, and copying untracked files into new worktrees.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness::{World, git};

fn script(w: &World, name: &str, body: &str) {
    let path = w.repo.join(".bosun").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn setup_runs_first_and_copied_files_are_there() {
    let mut w = World::new("app");
    script(&w, "setup", "#!/bin/sh\necho installing deps\necho \"setup saw $(cat .env.local)\" > .setup-done\n");
    script(&w, "cleanup", "#!/bin/sh\necho cleaning up\nrm -f .setup-done\n");
    std::fs::write(w.repo.join(".bosun/config.toml"), "copy = [\".env*\", \"local/*.yml\"]\n").unwrap();
    std::fs::write(w.repo.join(".gitignore"), ".env*\nlocal/\n.setup-done\n").unwrap();
    git(&w.repo, &["add", "."]);
    git(&w.repo, &["commit", "-qm", "bosun config"]);
    // Untracked, ignored files that only the main checkout has.
    std::fs::write(w.repo.join(".env.local"), "SECRET=42").unwrap();
    std::fs::create_dir_all(w.repo.join("local")).unwrap();
    std::fs::write(w.repo.join("local/db.yml"), "db: dev\n").unwrap();
    w.agent(
        "checker",
        None,
        &[json!({"run": ["cat", ".setup-done", ".env.local", "local/db.yml"]}), json!({"write": {"path": "done.txt", "content": "x"}})],
    );
    w.start(&[]);
    let id = w.add("Check the setup", "checker");
    let t = w.wait_status(id, "review");
    let events = w.events(id);
    let pos = |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred);
    let setup_out = pos(&|e| e["type"] == "output" && e["line"] == "installing deps").expect("setup output is in the log");
    let agent_start = pos(&|e| e["type"] == "status" && e["status"] == "running").unwrap();
    assert!(setup_out < agent_start, "setup runs before the agent");
    let result = events.iter().find(|e| e["type"] == "tool_result").unwrap();
    assert_eq!(result["exit_code"], 0, "{result}");
    assert_eq!(result["output"], "setup saw SECRET=42\nSECRET=42db: dev\n");
    let cleanup_out = pos(&|e| e["type"] == "output" && e["line"] == "cleaning up").expect("cleanup ran");
    assert!(cleanup_out > agent_start);
    let wt = t["worktree"].as_str().unwrap();
    assert!(!std::path::Path::new(&format!("{wt}/.setup-done")).exists(), "cleanup ran in the worktree");
    // The copied secrets are not committed (they are ignored), the agent's work is.
    let files = git(&w.repo, &["diff", "--name-only", "main...bosun/1-check-the-setup"]);
    assert_eq!(files, "done.txt", "{events:#?}");
}

#[test]
fn a_failing_setup_fails_the_task_with_its_output() {
    let mut w = World::new("app");
    script(&w, "setup", "#!/bin/sh\necho fetching\necho 'npm ERR! registry unreachable' >&2\nexit 3\n");
    git(&w.repo, &["add", "."]);
    git(&w.repo, &["commit", "-qm", "setup"]);
    w.agent("never", None, &[json!({"write": {"path": "agent-ran.txt", "content": "x"}})]);
    w.start(&[]);
    let id = w.add("Will not start", "never");
    let t = w.wait_status(id, "failed");
    let reason = t["status_reason"].as_str().unwrap();
    let setup = format!("{}/.bosun/setup", t["repo"].as_str().unwrap());
    assert!(reason.starts_with(&format!("setup failed: {setup}: exit code 3")), "{reason}");
    assert!(reason.contains("npm ERR! registry unreachable"), "{reason}");
    let events = w.events(id);
    assert!(events.iter().any(|e| e["type"] == "output" && e["line"] == "fetching"));
    assert!(events.iter().any(|e| e["type"] == "output" && e["stream"] == "stderr" && e["line"] == "npm ERR! registry unreachable"));
    let wt = t["worktree"].as_str().unwrap();
    assert!(!std::path::Path::new(&format!("{wt}/agent-ran.txt")).exists(), "the agent never started");
    assert!(t["runs"][0]["pid"].is_null());
}

/// A repo's `.bosun` files are read from the checkout as the user sees it, committed
/// or not: an uncommitted setup script runs like an uncommitted profile is found. A
/// hook an agent writes in its worktree is never run.
#[test]
fn hooks_come_from_the_checkout_as_it_is_like_profiles() {
    let mut w = World::new("app");
    // Neither is committed.
    script(&w, "setup", "#!/bin/sh\necho setup from the checkout\n");
    std::fs::create_dir_all(w.repo.join(".bosun/agents")).unwrap();
    let steps = [
        json!({"say": "working"}),
        json!({"write": {"path": ".bosun/cleanup", "content": "#!/bin/sh\necho agent-written cleanup ran\n"}}),
        json!({"run": ["chmod", "+x", ".bosun/cleanup"]}),
    ];
    let script_path = w.path("scripts/local.jsonl");
    std::fs::write(&script_path, bosun_fake_agent::script(&steps)).unwrap();
    let command = serde_json::to_string(&[crate::harness::FAKE_AGENT, "--script", script_path.to_str().unwrap()]).unwrap();
    std::fs::write(w.repo.join(".bosun/agents/local.md"), format!("---\nname: local\nruntime: command\ncommand: {command}\n---\n"))
        .unwrap();
    w.start(&[]);
    let id = w.add("Uncommitted config", "local");
    w.wait_status(id, "review");
    let lines: Vec<String> =
        w.events(id).iter().filter(|e| e["type"] == "output").map(|e| e["line"].as_str().unwrap().to_string()).collect();
    assert!(lines.contains(&"setup from the checkout".to_string()), "the uncommitted setup ran: {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("agent-written")), "a hook the agent wrote did not run: {lines:?}");
}
