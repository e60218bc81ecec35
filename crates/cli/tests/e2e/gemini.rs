//! The real Gemini CLI from npm (`gemini --acp`, the `gemini` runtime) against the
//! scripted mock model. Without `node_modules` these tests say so and pass, unless
//! `BOSUN_E2E_AGENT_CLIS=1` demands the CLIs.
//!
//! The profiles name a model: with the default `auto`, Gemini CLI first asks a
//! classifier (a `generateContent` side call) which model to route to.

use bosun_mock_model::{Family, MockModel, Script, Turn};
use serde_json::{Value, json};

use crate::harness::{World, git};
use crate::real_clis::{cli, mock};

/// A profile `agent` pointed at the mock (`runtime` its front matter lines), and the
/// API-key login in the sealed HOME.
pub(crate) fn gemini_world(mock: &MockModel, runtime: &str) -> World {
    let mut w = World::new("app");
    let settings = json!({
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "telemetry": {"enabled": false},
        "privacy": {"usageStatisticsEnabled": false},
    });
    std::fs::create_dir_all(w.path("home/.gemini")).unwrap();
    std::fs::write(w.path("home/.gemini/settings.json"), settings.to_string()).unwrap();
    let profile = format!(
        "---\nname: agent\n{runtime}env:\n  GEMINI_API_KEY: test-key\n  GOOGLE_GEMINI_BASE_URL: {}\n---\nYou are careful. Keep answers short.\n",
        mock.base_url()
    );
    std::fs::write(w.path("config/agents/agent.md"), profile).unwrap();
    let cli = cli("gemini").unwrap();
    w.start_with_env(&[], &[("BOSUN_GEMINI_PATH", cli.to_str().unwrap())]);
    w
}

pub(crate) const GEMINI: &str = "runtime: gemini\nmodel: gemini-2.5-flash\n";

fn has(events: &[Value], pred: impl Fn(&Value) -> bool) -> bool {
    events.iter().any(pred)
}

fn ends_with(e: &Value, key: &str, suffix: &str) -> bool {
    e[key].as_str().is_some_and(|p| p.ends_with(suffix))
}

#[test]
fn gemini_writes_a_file_that_lands_on_the_task_branch() {
    if cli("gemini").is_none() {
        return;
    }
    let script = Script::new()
        .turn(Family::Gemini, Turn::tool("read_file", json!({"file_path": "{cwd}/README.md"})))
        .turn(Family::Gemini, Turn::tool("write_file", json!({"file_path": "{cwd}/hello.txt", "content": "hello from gemini\n"})))
        .turn(Family::Gemini, Turn::text("I wrote hello.txt."));
    let (_rt, mock) = mock(script);
    let w = gemini_world(&mock, GEMINI);
    let id = w.add("Add a greeting", "agent");
    let t = w.wait_status(id, "review");

    let branch = t["branch"].as_str().unwrap();
    assert_eq!(git(&w.repo, &["show", &format!("{branch}:hello.txt")]), "hello from gemini");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "session" && e["session_id"].is_string()), "{events:#?}");
    // Reads need no permission: announced by `tool_call`, then their result.
    let read = events.iter().find(|e| e["type"] == "tool_call" && e["kind"] == "read").expect("a read");
    assert!(ends_with(read, "path", "/README.md"), "{read}");
    assert!(has(&events, |e| e["type"] == "tool_result" && e["id"] == read["id"] && e["kind"] == "read"));
    // Gemini asks before writing; the default policy (auto-edits) allows writes in the worktree.
    let ask = events.iter().find(|e| e["type"] == "approval_request").expect("a permission ask");
    assert_eq!(ask["kind"], "edit");
    assert!(ends_with(ask, "path", "/hello.txt"), "{ask}");
    assert!(has(&events, |e| e["type"] == "approval" && e["id"] == ask["id"] && e["allow"] == true && e["by"] == "policy"));
    assert!(has(&events, |e| e["type"] == "tool_call" && e["kind"] == "edit" && ends_with(e, "path", "/hello.txt")));
    assert!(has(&events, |e| e["type"] == "tool_result" && e["kind"] == "edit" && e["is_error"] == false));
    assert!(has(&events, |e| e["type"] == "file_change" && e["change"] == "added" && ends_with(e, "path", "/hello.txt")));
    assert!(has(&events, |e| e["type"] == "message" && e["text"] == "I wrote hello.txt."));
    assert!(has(&events, |e| e["type"] == "usage" && e["output_tokens"].as_u64() > Some(0)));
    assert!(t["runs"][0]["output_tokens"].as_u64() > Some(0), "{}", t["runs"][0]);
    // One prompt with the instructions, then the task.
    let requests = mock.requests_for(Family::Gemini);
    assert_eq!(requests.len(), 3, "{requests:#?}");
    let first = requests[0].body.to_string();
    assert!(first.contains("You are careful.") && first.contains("Add a greeting"), "{first}");
    assert!(requests.iter().all(|r| !r.script_exhausted));
}

#[test]
fn gemini_asks_a_human_for_a_command_then_reply_continues() {
    if cli("gemini").is_none() {
        return;
    }
    let script = Script::new()
        .turn(Family::Gemini, Turn::tool("run_shell_command", json!({"command": "echo checked > check.txt", "description": "Check"})))
        .turn(Family::Gemini, Turn::text("Checked."))
        .turn(Family::Gemini, Turn::text("Logout is covered."));
    let (_rt, mock) = mock(script);
    let w = gemini_world(&mock, GEMINI);
    let id = w.add("Check things", "agent");
    w.wait_status(id, "needs_input");
    let pending = w.json(&["approvals"]);
    assert_eq!(pending[0]["kind"], "command", "{pending}");
    assert_eq!(pending[0]["command"], "echo checked > check.txt");
    w.bosun(&["approve", &id.to_string()]);
    let t = w.wait_status(id, "review");
    let wt = t["worktree"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(format!("{wt}/check.txt")).unwrap(), "checked\n");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "approval" && e["by"] == "user" && e["allow"] == true), "{events:#?}");
    assert!(has(&events, |e| e["type"] == "tool_call" && e["kind"] == "command" && e["command"] == "echo checked > check.txt"));
    assert!(has(&events, |e| e["type"] == "message" && e["text"] == "Checked."));
    let session = events.iter().find(|e| e["type"] == "session").unwrap()["session_id"].clone();

    w.bosun(&["reply", &id.to_string(), "also cover the logout path"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    let events = w.events(id);
    let run2: Vec<&Value> = events.iter().filter(|e| e["run_id"] == t["runs"][1]["id"]).collect();
    assert!(run2.iter().any(|e| e["type"] == "message" && e["text"] == "Logout is covered."), "{run2:#?}");
    // The replayed history of a loaded session is not reported again.
    assert!(!run2.iter().any(|e| e["type"] == "message" && e["text"] == "Checked."), "{run2:#?}");
    let resumed = mock.requests_for(Family::Gemini).last().unwrap().body.to_string();
    assert!(resumed.contains("also cover the logout path"));
    // Gemini CLI 0.61 loses a session loaded in the same minute it was started (it
    // reopens the same chat file and clears it): then the reply runs in a new session.
    let loaded = run2.iter().any(|e| e["type"] == "session" && e["session_id"] == session);
    let fell_back = run2.iter().any(|e| e["type"] == "error" && ends_with(e, "message", "starting a new session"));
    assert!(loaded != fell_back, "{run2:#?}");
    if loaded {
        assert!(resumed.contains("Check things"), "the history came along");
    }
}

#[test]
fn acp_runtime_drives_any_acp_agent() {
    let Some(cli) = cli("gemini") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::Gemini, Turn::text("Hello over ACP.")));
    let command = json!([cli, "--acp", "-m", "gemini-2.5-flash"]);
    let w = gemini_world(&mock, &format!("runtime: acp\ncommand: {command}\n"));
    let id = w.add("Say hello", "agent");
    w.wait_status(id, "review");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "session"), "{events:#?}");
    assert!(has(&events, |e| e["type"] == "message" && e["text"] == "Hello over ACP."), "{events:#?}");
}

#[test]
fn a_failed_prompt_fails_the_run_though_gemini_exits_0() {
    let Some(_) = cli("gemini") else { return };
    // A 400 is not retried: `session/prompt` answers with a JSON-RPC error at once.
    let (_rt, mock) = mock(Script::new().turn(Family::Gemini, Turn::error(400)));
    let w = gemini_world(&mock, GEMINI);
    let id = w.add("Say hello", "agent");
    let t = w.wait_status(id, "failed");
    let run = &t["runs"][0];
    assert_eq!(run["exit_code"], 0, "{run}");
    assert!(run["reason"].as_str().is_some_and(|r| r.contains("session/prompt failed") && r.contains("scripted HTTP 400")), "{run}");
    assert!(has(&w.events(id), |e| e["type"] == "error" && e["message"] == run["reason"]));
}

#[test]
fn a_message_said_during_a_turn_is_the_next_prompt() {
    let Some(_) = cli("gemini") else { return };
    let script = Script::new()
        .turn(Family::Gemini, Turn { delay_ms: 2000, ..Turn::text("Working on it.") })
        .turn(Family::Gemini, Turn::text("Using the retry helper."));
    let (rt, mock) = mock(script);
    let w = gemini_world(&mock, GEMINI);
    let id = w.add("Fix the flaky test", "agent");
    rt.block_on(mock.wait_for_requests_for(Family::Gemini, 1, std::time::Duration::from_secs(30))).unwrap();
    // ACP cannot add to a running turn: the message waits for it, then is a prompt of its own.
    w.bosun(&["say", &id.to_string(), "use the retry helper"]);
    w.wait_status(id, "review");
    let requests = mock.requests_for(Family::Gemini);
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].body.to_string().contains("use the retry helper"));
    assert!(requests[1].body.to_string().contains("use the retry helper"));
    let events = w.events(id);
    let texts: Vec<&str> =
        events.iter().filter(|e| e["type"] == "message" && e["role"].is_null()).filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(texts, ["Working on it.", "Using the retry helper."]);
    assert_eq!(events.iter().filter(|e| e["type"] == "usage").count(), 2);
}
