//! The real Codex CLI (`codex app-server`, from `npm ci`) driven by the `codex` runtime
//! against the scripted mock model's OpenAI Responses API.

use bosun_mock_model::{Family, MockModel, Script, Turn};
use serde_json::{Value, json};

use crate::harness::{World, git};
use crate::real_clis::{cli, mock};

pub(crate) fn codex_profile(w: &World, name: &str, mock: &MockModel) {
    let provider = |k: &str| format!("model_providers.mock.{k}");
    let mut args = vec!["-c".to_string(), "model_provider=mock".into()];
    for kv in [
        format!("{}=mock", provider("name")),
        format!("{}={}", provider("base_url"), mock.openai_base_url()),
        format!("{}=responses", provider("wire_api")),
        format!("{}=MOCK_KEY", provider("env_key")),
        "analytics.enabled=false".into(),
    ] {
        args.extend(["-c".into(), kv]);
    }
    args.extend(["--disable".into(), "plugins".into()]);
    let args = serde_json::to_string(&args).unwrap();
    let profile = format!(
        "---\nname: {name}\nruntime: codex\nmodel: gpt-5.5\nargs: {args}\nenv:\n  MOCK_KEY: x\n---\nYou are careful. Keep answers short.\n"
    );
    std::fs::write(w.path(&format!("config/agents/{name}.md")), profile).unwrap();
}

fn patch(body: &str) -> Turn {
    Turn::custom_tool("apply_patch", format!("*** Begin Patch\n{body}*** End Patch\n"))
}

#[test]
fn codex_edits_asks_before_a_command_and_reply_resumes_the_thread() {
    let Some(codex) = cli("codex") else { return };
    let script = Script::new()
        .turn(Family::OpenAi, patch("*** Add File: hello.txt\n+hello from codex\n"))
        .turn(Family::OpenAi, Turn::tool("exec_command", json!({"cmd": "echo checked > check.txt"})))
        .turn(Family::OpenAi, Turn::text("I wrote hello.txt."))
        .turn(Family::OpenAi, patch("*** Add File: logout.txt\n+logout covered\n"))
        .turn(Family::OpenAi, Turn::text("Covered logout too."));
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = w.add("Add a greeting", "codex");

    // The edit inside the worktree is allowed by the default policy; the command asks.
    w.wait_status(id, "needs_input");
    let pending = w.json(&["approvals"]);
    assert_eq!(pending[0]["tool"], "Bash", "{pending}");
    assert_eq!(pending[0]["command"], "echo checked > check.txt");
    w.bosun(&["approve", &id.to_string()]);
    let t = w.wait_status(id, "review");

    let branch = t["branch"].as_str().unwrap();
    assert_eq!(git(&w.repo, &["show", &format!("{branch}:hello.txt")]), "hello from codex");
    assert_eq!(git(&w.repo, &["show", &format!("{branch}:check.txt")]), "checked");
    let events = w.events(id);
    let has = |pred: &dyn Fn(&Value) -> bool| events.iter().any(pred);
    let hello = |e: &Value| e["path"].as_str().is_some_and(|p| p.ends_with("/hello.txt"));
    assert!(has(&|e| e["type"] == "session" && e["session_id"].is_string()), "{events:#?}");
    assert!(has(&|e| e["type"] == "approval_request" && e["tool"] == "apply_patch" && e["kind"] == "write" && hello(e)));
    assert!(has(&|e| e["type"] == "approval" && e["by"] == "policy" && e["allow"] == true));
    assert!(has(&|e| e["type"] == "approval" && e["by"] == "user" && e["allow"] == true));
    assert!(has(&|e| e["type"] == "tool_call" && e["kind"] == "write" && e["name"] == "apply_patch" && hello(e)));
    assert!(has(&|e| e["type"] == "file_change" && e["change"] == "added" && hello(e)));
    assert!(has(&|e| e["type"] == "tool_call" && e["kind"] == "command" && e["command"] == "echo checked > check.txt"));
    assert!(has(&|e| e["type"] == "tool_result" && e["kind"] == "command" && e["exit_code"] == 0));
    assert!(has(&|e| e["type"] == "message" && e["text"] == "I wrote hello.txt."));
    assert!(has(&|e| e["type"] == "usage" && e["input_tokens"] == 10 && e["output_tokens"] == 5));
    let run = &t["runs"][0];
    assert_eq!((run["input_tokens"].as_u64(), run["output_tokens"].as_u64()), (Some(30), Some(15)), "three model calls: {run}");
    assert!(run["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "priced from the table: {run}");
    // The task and the instructions reached the model, with the catalog model's tools.
    let requests = mock.requests_for(Family::OpenAi);
    let first = requests[0].body.to_string();
    assert!(first.contains("Add a greeting") && first.contains("You are careful."), "{first}");
    assert_eq!(requests[0].model.as_deref(), Some("gpt-5.5"));
    let session = events.iter().find(|e| e["type"] == "session").unwrap()["session_id"].clone();

    // A reply resumes the same thread, history included; usage counts only the new calls.
    w.bosun(&["reply", &id.to_string(), "also cover the logout path"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    assert_eq!(git(&w.repo, &["show", &format!("{branch}:logout.txt")]), "logout covered");
    let sessions: Vec<Value> = w.events(id).into_iter().filter(|e| e["type"] == "session").map(|e| e["session_id"].clone()).collect();
    assert_eq!(sessions, [session.clone(), session]);
    let resumed = mock.requests_for(Family::OpenAi);
    let resumed = resumed.iter().find(|r| r.body.to_string().contains("also cover the logout path")).expect("the reply reached the model");
    assert!(resumed.body.to_string().contains("Add a greeting"), "the history came along");
    let run = &t["runs"][1];
    assert_eq!((run["input_tokens"].as_u64(), run["output_tokens"].as_u64()), (Some(20), Some(10)), "{run}");
}

#[test]
fn codex_is_steered_by_say_within_the_running_turn() {
    let Some(codex) = cli("codex") else { return };
    let script = Script::new()
        .turn(Family::OpenAi, Turn { delay_ms: 2000, ..Turn::text("Working on it slowly.") })
        .turn(Family::OpenAi, Turn::text("Steered: using the existing helper."));
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = w.add("Add a greeting", "codex");
    rt.block_on(mock.wait_for_requests_for(Family::OpenAi, 1, std::time::Duration::from_secs(30))).unwrap();
    assert_eq!(w.json(&["say", &id.to_string(), "use the existing helper"])["delivered"], "now");
    let t = w.wait_status(id, "review");

    assert_eq!(t["runs"].as_array().unwrap().len(), 1, "steered within the run, not a new one");
    let requests = mock.requests_for(Family::OpenAi);
    assert_eq!(requests.len(), 2);
    assert!(requests[1].body.to_string().contains("use the existing helper"));
    let events = w.events(id);
    let messages: Vec<&str> = events.iter().filter(|e| e["type"] == "message").filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(messages, ["use the existing helper", "Steered: using the existing helper."], "{events:#?}");
}

#[test]
fn a_model_error_ends_the_codex_run_with_an_error_event() {
    let Some(codex) = cli("codex") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::OpenAi, Turn::error(400)));
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = w.add("Add a greeting", "codex");
    // app-server exits 0 whatever the turn's outcome: the driver's failure decides.
    let t = w.wait_status(id, "failed");
    assert!(t["status_reason"].as_str().unwrap().starts_with("Codex: the turn failed"), "{t}");
    let events = w.events(id);
    let errors: Vec<&str> = events.iter().filter(|e| e["type"] == "error").filter_map(|e| e["message"].as_str()).collect();
    assert_eq!(errors, ["Codex: bosun-mock-model: scripted HTTP 400"], "{events:#?}");
}

#[test]
fn a_denied_codex_command_is_declined_and_the_reason_reaches_the_model() {
    let Some(codex) = cli("codex") else { return };
    let understood = || Turn::text("Understood, keeping it.");
    let script = Script::new()
        .turn(Family::OpenAi, Turn::tool("exec_command", json!({"cmd": "rm -rf build"})))
        .turn(Family::OpenAi, understood())
        .turn(Family::OpenAi, understood());
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = w.add("Clean up", "codex");
    w.wait_status(id, "needs_input");
    w.bosun(&["deny", &id.to_string(), "--reason", "keep the build dir"]);
    w.wait_status(id, "review");

    let events = w.events(id);
    assert!(events.iter().any(|e| e["type"] == "tool_result" && e["kind"] == "command" && e["is_error"] == true), "{events:#?}");
    assert!(events.iter().any(|e| e["type"] == "message" && e["text"] == "Understood, keeping it."));
    let told = mock.requests_for(Family::OpenAi).iter().any(|r| r.body.to_string().contains("Denied: keep the build dir"));
    assert!(told, "the reason reached the model");
}
