//! The real agent CLIs from npm (`npm ci` at the repo root installs them), pointed at
//! the scripted mock model on 127.0.0.1. Without `node_modules` these tests say so and
//! pass, unless `BOSUN_E2E_AGENT_CLIS=1` (set by `.ci/run`) demands the CLIs.

use std::path::PathBuf;

use bosun_mock_model::{Family, MockModel, Script, Turn};
use serde_json::json;

use crate::harness::{World, git};

/// The installed CLI, or None (and a note) when it is absent and not required.
pub(crate) fn cli(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin").join(name);
    if path.exists() {
        return Some(path.canonicalize().unwrap());
    }
    assert!(std::env::var("BOSUN_E2E_AGENT_CLIS").as_deref() != Ok("1"), "{} is missing: run `npm ci` at the repo root", path.display());
    eprintln!("skipping: {} is not installed (npm ci)", path.display());
    None
}

/// The mock model on a runtime of its own, alive as long as the returned runtime.
pub(crate) fn mock(script: Script) -> (tokio::runtime::Runtime, MockModel) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mock = rt.block_on(MockModel::start(script)).unwrap();
    (rt, mock)
}

pub(crate) fn claude_profile(w: &World, name: &str, mock: &MockModel, extra: &str) {
    let profile = format!(
        "---\nname: {name}\nruntime: claude-code\nmodel: claude-sonnet-4-5\n{extra}env:\n  ANTHROPIC_BASE_URL: {}\n  ANTHROPIC_API_KEY: sk-test\n  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\"\n  DISABLE_TELEMETRY: \"1\"\n  DISABLE_AUTOUPDATER: \"1\"\n---\nYou are careful. Keep answers short.\n",
        mock.base_url()
    );
    std::fs::write(w.path(&format!("config/agents/{name}.md")), profile).unwrap();
}

#[test]
fn claude_code_writes_a_file_that_lands_on_the_task_branch() {
    let Some(claude) = cli("claude") else { return };
    let script = Script::new()
        .turn(Family::Anthropic, Turn::tool("Write", json!({"file_path": "{cwd}/hello.txt", "content": "hello from claude\n"})))
        .turn(Family::Anthropic, Turn::text("I wrote hello.txt."));
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let id = w.add("Add a greeting", "claude");
    let t = w.wait_status(id, "review");

    let branch = t["branch"].as_str().unwrap();
    assert_eq!(git(&w.repo, &["show", &format!("{branch}:hello.txt")]), "hello from claude");
    let events = w.events(id);
    let has = |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().any(pred);
    assert!(has(&|e| e["type"] == "session" && e["session_id"].is_string()), "{events:#?}");
    assert!(has(&|e| e["type"] == "tool_call" && e["kind"] == "write" && e["path"].as_str().is_some_and(|p| p.ends_with("/hello.txt"))));
    assert!(has(&|e| e["type"] == "file_change" && e["path"].as_str().is_some_and(|p| p.ends_with("/hello.txt"))));
    assert!(has(&|e| e["type"] == "message" && e["text"] == "I wrote hello.txt."));
    assert!(has(&|e| e["type"] == "usage" && e["output_tokens"].as_u64() > Some(0)));
    let run = &t["runs"][0];
    assert!(run["output_tokens"].as_u64() > Some(0), "{run}");
    assert!(run["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "a cost: {run}");
    // The prompt reached the model with the task, and the instructions in the system prompt.
    let requests = mock.requests_for(Family::Anthropic);
    assert!(requests.len() >= 2);
    let first = requests[0].body.to_string();
    assert!(first.contains("Add a greeting") && first.contains("You are careful."), "{first}");
}

#[test]
fn claude_code_asks_and_a_human_answers_then_reply_resumes_the_session() {
    let Some(claude) = cli("claude") else { return };
    let script = Script::new()
        .turn(Family::Anthropic, Turn::tool("Bash", json!({"command": "echo checked > check.txt", "description": "Check"})))
        .turn(Family::Anthropic, Turn::text("Checked."))
        .turn(Family::Anthropic, Turn::tool("Write", json!({"file_path": "{cwd}/logout.txt", "content": "logout covered\n"})))
        .turn(Family::Anthropic, Turn::text("Covered logout too."));
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let id = w.add("Check things", "claude");
    w.wait_status(id, "needs_input");
    let pending = w.json(&["approvals"]);
    assert_eq!(pending[0]["tool"], "Bash");
    assert_eq!(pending[0]["command"], "echo checked > check.txt");
    // Steering mid-turn: Claude Code takes the message into its next model request.
    assert_eq!(w.json(&["say", &id.to_string(), "use the existing retry helper"])["delivered"], "now");
    w.bosun(&["approve", &id.to_string()]);
    let t = w.wait_status(id, "review");
    let wt = t["worktree"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(format!("{wt}/check.txt")).unwrap(), "checked\n");
    let session = w.events(id).iter().find(|e| e["type"] == "session").unwrap()["session_id"].as_str().unwrap().to_string();
    let steered = mock.requests_for(Family::Anthropic).iter().any(|r| r.body.to_string().contains("use the existing retry helper"));
    assert!(steered, "the message reached the model within the run");
    assert!(w.events(id).iter().any(|e| e["type"] == "message" && e["role"] == "user" && e["text"] == "use the existing retry helper"));

    w.bosun(&["reply", &id.to_string(), "also cover the logout path"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    assert_eq!(std::fs::read_to_string(format!("{wt}/logout.txt")).unwrap(), "logout covered\n");
    // Resumed: the same session, and the model saw the earlier conversation.
    let sessions: Vec<String> =
        w.events(id).iter().filter(|e| e["type"] == "session").map(|e| e["session_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(sessions.last().unwrap(), &session);
    let requests = mock.requests_for(Family::Anthropic);
    let resumed =
        requests.iter().rev().find(|r| r.body.to_string().contains("also cover the logout path")).expect("the reply reached the model");
    assert!(resumed.body.to_string().contains("Check things"), "the history came along");
}

#[test]
fn agents_lists_profiles_and_a_missing_cli_fails_at_dispatch() {
    let mut w = World::new("app");
    std::fs::write(w.path("config/agents/coder.md"), "---\nname: coder\nruntime: codex\nmodel: gpt-5.5\n---\nCode.\n").unwrap();
    std::fs::write(w.path("config/agents/broken.md"), "---\nruntime: nonsense\n---\n").unwrap();
    w.agent("local", None, &[json!({"say": "hi"})]);
    let claude = cli("claude");
    if let Some(claude) = &claude {
        std::fs::write(w.path("config/agents/claude.md"), "---\nname: claude\nruntime: claude-code\n---\n").unwrap();
        w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    } else {
        w.start(&[]);
    }
    let body = w.json(&["agents"]);
    let agent = |name: &str| body["agents"].as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap();
    let coder = agent("coder");
    assert_eq!((coder["runtime"].as_str(), coder["installed"]["ok"].as_bool()), (Some("codex"), Some(false)));
    assert_eq!(coder["installed"]["problem"], "codex: `codex` not found on PATH (install @openai/codex)");
    assert_eq!(agent("local")["installed"]["ok"], true);
    if claude.is_some() {
        let c = agent("claude");
        assert_eq!(c["installed"]["version"], "2.1.332 (Claude Code)");
    }
    assert!(body["broken"][0]["error"].as_str().unwrap().contains("unknown runtime `nonsense`"));
    let human = w.bosun(&["agents"]);
    assert!(human.contains("coder") && human.contains("MISSING: codex: `codex` not found on PATH"), "{human}");

    let id = w.add("Needs codex", "coder");
    let t = w.wait_status(id, "failed");
    assert_eq!(t["status_reason"], "codex: `codex` not found on PATH (install @openai/codex)");
}

#[test]
fn claude_code_deny_interrupt_and_a_hang_hitting_the_idle_timeout() {
    let Some(claude) = cli("claude") else { return };
    let slow = || Turn { delay_ms: 120_000, ..Turn::text("too late") };
    let script = Script::new()
        .turn(Family::Anthropic, Turn::tool("Bash", json!({"command": "rm -rf /tmp/precious", "description": "Clean"})))
        .turn(Family::Anthropic, Turn::text("Understood, I will not delete it."));
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    claude_profile(&w, "patient", &mock, "idle_timeout: 3\n");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);

    // Deny: the reason reaches the model.
    let id = w.add("Clean up", "claude");
    w.wait_status(id, "needs_input");
    w.bosun(&["deny", &id.to_string(), "--reason", "not in prod"]);
    w.wait_status(id, "review");
    assert!(
        mock.requests_for(Family::Anthropic).iter().any(|r| r.body.to_string().contains("not in prod")),
        "the denial reached the model"
    );
    assert!(w.events(id).iter().any(|e| e["type"] == "approval" && e["allow"] == false && e["by"] == "user"));

    // Interrupt: the model would answer in two minutes; the turn ends now.
    mock.push(Family::Anthropic, slow());
    let before = mock.requests_for(Family::Anthropic).len();
    let id = w.add("Think long", "claude");
    crate::harness::wait_for("the model call", || (mock.requests_for(Family::Anthropic).len() > before).then_some(()));
    w.bosun(&["interrupt", &id.to_string()]);
    let t = w.wait_status(id, "stopped");
    assert_eq!(t["status_reason"], "turn interrupted by user");

    // A hang: the model never answers in time, the idle timeout ends the run.
    mock.push(Family::Anthropic, slow());
    let id = w.add("Hang", "patient");
    let t = w.wait_status(id, "failed");
    assert_eq!(t["status_reason"], "no output for 3s (the profile's idle_timeout)");
}

#[test]
fn five_claude_code_tasks_at_once_each_in_its_own_worktree_and_session() {
    let Some(claude) = cli("claude") else { return };
    let mut script = Script::new();
    for _ in 0..5 {
        script = script.turn(Family::Anthropic, Turn::tool("Write", json!({"file_path": "{cwd}/mine.txt", "content": "{cwd}\n"})));
    }
    let (_rt, mock) = mock(script); // once the writes are used up, the mock says "done"
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let ids: Vec<i64> = (0..5).map(|i| w.add(&format!("Parallel {i}"), "claude")).collect();
    let mut sessions = std::collections::HashSet::new();
    let mut worktrees = std::collections::HashSet::new();
    for &id in &ids {
        let t = w.wait_status(id, "review");
        let wt = t["worktree"].as_str().unwrap().to_string();
        // Whatever this task's agent wrote names its own worktree: no cross-talk.
        if let Ok(text) = std::fs::read_to_string(format!("{wt}/mine.txt")) {
            assert_eq!(text.trim(), wt);
        }
        worktrees.insert(wt);
        let session = w.events(id).iter().find(|e| e["type"] == "session").unwrap()["session_id"].as_str().unwrap().to_string();
        sessions.insert(session);
    }
    assert_eq!((worktrees.len(), sessions.len()), (5, 5));
}
