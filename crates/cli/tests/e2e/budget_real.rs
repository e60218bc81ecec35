//! Models and budgets with the real agent CLIs against the mock model (which records
//! every request): `--model` reaches Claude Code, Codex and Gemini CLI; a Codex run
//! over its budget is stopped and the model hears nothing more, and so is a Claude Code
//! run, in the middle of its turn (usage is checked per model response); a Claude
//! Code turn counts its own cost once; a newcomer's task runs on the built-in `claude`
//! profile with no profile file at all. Without `node_modules` these say so and pass (see
//! `real_clis::cli`).

use bosun_mock_model::{Family, Script, Turn, Usage};
use serde_json::json;

use crate::codex::codex_profile;
use crate::gemini::{GEMINI, gemini_world};
use crate::harness::World;
use crate::real_clis::{claude_profile, cli, mock};

fn add(w: &World, args: &[&str]) -> i64 {
    let mut all = vec!["add", "--repo", w.repo.to_str().unwrap()];
    all.extend_from_slice(args);
    w.bosun(&all).lines().next().unwrap().trim().parse().unwrap()
}

#[test]
fn model_reaches_claude_code_and_a_reply_can_change_it() {
    let Some(claude) = cli("claude") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::Anthropic, Turn::text("Done.")).turn(Family::Anthropic, Turn::text("Again.")));
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let id = add(&w, &["--agent", "claude", "--model", "claude-haiku-4-5", "--", "Say done"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][0]["model"], "claude-haiku-4-5");
    let models = |mock: &bosun_mock_model::MockModel| -> Vec<Option<String>> {
        mock.requests_for(Family::Anthropic).iter().filter(|r| r.kind == bosun_mock_model::Kind::Model).map(|r| r.model.clone()).collect()
    };
    assert!(models(&mock).iter().any(|m| m.as_deref() == Some("claude-haiku-4-5")), "{:?}", models(&mock));
    assert!(!models(&mock).iter().any(|m| m.as_deref() == Some("claude-sonnet-4-5")), "the profile's model was not used");
    w.bosun(&["reply", &id.to_string(), "once more", "--model", "claude-opus-4-1"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][1]["model"], "claude-opus-4-1");
    // Claude Code maps an older opus name to its current one: the family is what arrives.
    let last = models(&mock).last().cloned().flatten().unwrap_or_default();
    assert!(last.starts_with("claude-opus"), "{:?}", models(&mock));
}

#[test]
fn model_reaches_codex() {
    let Some(codex) = cli("codex") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::OpenAi, Turn::text("Done.")));
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = add(&w, &["--agent", "codex", "--model", "gpt-5.1-codex", "--", "Say done"]);
    w.wait_status(id, "review");
    let requests = mock.requests_for(Family::OpenAi);
    assert_eq!(requests[0].model.as_deref(), Some("gpt-5.1-codex"));
}

#[test]
fn model_reaches_gemini_cli() {
    if cli("gemini").is_none() {
        return;
    }
    let (_rt, mock) = mock(Script::new().turn(Family::Gemini, Turn::text("Done.")));
    let w = gemini_world(&mock, GEMINI);
    let id = add(&w, &["--agent", "agent", "--model", "gemini-2.5-pro", "--", "Say done"]);
    w.wait_status(id, "review");
    let models: Vec<Option<String>> = mock.requests_for(Family::Gemini).iter().map(|r| r.model.clone()).collect();
    assert!(models.iter().any(|m| m.as_deref() == Some("gemini-2.5-pro")), "{models:?}");
    assert!(!models.iter().any(|m| m.as_deref() == Some("gemini-2.5-flash")), "not the profile's: {models:?}");
}

#[test]
fn a_codex_run_over_its_budget_is_stopped_and_the_model_hears_nothing_more() {
    let Some(codex) = cli("codex") else { return };
    // Each model call costs $0.50 at gpt-5 prices (400k input tokens at $1.25/M), and
    // the script would keep it working for eight of them.
    let costly = Usage { input_tokens: 400_000, output_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
    let mut script = Script::new();
    for i in 0..8 {
        let patch = format!("*** Begin Patch\n*** Add File: step{i}.txt\n+step {i}\n*** End Patch\n");
        script = script.turn(Family::OpenAi, Turn::custom_tool("apply_patch", patch).with_usage(costly.clone()));
    }
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = add(&w, &["--agent", "codex", "--budget", "1.2", "--", "Keep working"]);
    let t = w.wait_status(id, "needs_input");
    let reason = t["status_reason"].as_str().unwrap();
    assert!(reason.starts_with(&format!("stopped: budget `task T-{id}`: $1.50 spent")), "{reason}");
    // The run ended only once Codex's whole process group was gone: whatever the
    // mock has now is all it will ever get.
    let model_calls = || mock.requests_for(Family::OpenAi).iter().filter(|r| r.kind == bosun_mock_model::Kind::Model).count();
    let seen = model_calls();
    assert!((3..=4).contains(&seen), "stopped at the third report, not after the script: {seen}");
    let costs = w.json(&["cost", "--by", "model"]);
    assert_eq!(costs["rows"][0]["key"], "gpt-5.5");
    assert!((costs["total_usd"].as_f64().unwrap() - 1.5).abs() < 1e-6, "{costs}");
    assert_eq!(model_calls(), seen, "no request after the stop");
}

#[test]
fn a_claude_code_run_over_its_budget_is_stopped_mid_turn_and_the_model_hears_nothing_more() {
    let Some(claude) = cli("claude") else { return };
    // Each model response costs $0.60 at claude-sonnet prices (200k input tokens at
    // $3/M), and the script would keep Claude Code writing files for eight of them in
    // one turn.
    let mut script = Script::new();
    for i in 0..8 {
        let write = json!({"file_path": format!("{{cwd}}/step{i}.txt"), "content": format!("step {i}\n")});
        let usage = Usage { input_tokens: 200_000, output_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
        script = script.turn(Family::Anthropic, Turn::tool("Write", write).with_usage(usage));
    }
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let id = add(&w, &["--agent", "claude", "--budget", "1.0", "--", "Keep writing"]);
    // Each response's usage is checked as it arrives: the second crosses $1.00, and the
    // run is stopped in the middle of the turn, not at its end.
    let t = w.wait_status(id, "needs_input");
    let reason = t["status_reason"].as_str().unwrap();
    assert!(reason.starts_with(&format!("stopped: budget `task T-{id}`: $1.20 spent")), "{reason}");
    assert_eq!(t["runs"][0]["status"], "stopped");
    let model_calls = || mock.requests_for(Family::Anthropic).iter().filter(|r| r.kind == bosun_mock_model::Kind::Model).count();
    let seen = model_calls();
    assert!((2..=3).contains(&seen), "stopped at the second response, not after the script: {seen}");
    let costs = w.json(&["cost", "--by", "task"]);
    assert!((costs["total_usd"].as_f64().unwrap() - t["runs"][0]["cost_usd"].as_f64().unwrap()).abs() < 1e-9, "{costs} {t}");
    assert!((costs["total_usd"].as_f64().unwrap() - 1.2).abs() < 1e-6, "each response charged once: {costs}");
    // A reply cannot start another run past the budget; raising it can.
    assert_eq!(w.try_bosun(&["reply", &id.to_string(), "go on"]).status.code(), Some(1));
    assert_eq!(model_calls(), seen, "no request after the stop");
    w.bosun(&["budget", "raise", &id.to_string(), "100"]);
    w.wait_status(id, "review");
    assert!(model_calls() > seen);
}

#[test]
fn a_claude_code_turn_is_charged_what_claude_code_reports() {
    let Some(claude) = cli("claude") else { return };
    let usage = Usage { input_tokens: 200_000, output_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
    let write = json!({"file_path": "{cwd}/one.txt", "content": "one\n"});
    let script = Script::new()
        .turn(Family::Anthropic, Turn::tool("Write", write).with_usage(usage.clone()))
        .turn(Family::Anthropic, Turn::text("Done.").with_usage(usage));
    let (_rt, mock) = mock(script);
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    let id = add(&w, &["--agent", "claude", "--", "Write one file"]);
    let t = w.wait_status(id, "review");
    // Two responses priced as they came, then the turn's result with Claude Code's own
    // figure for the whole turn: what counts is Claude Code's figure, once.
    let usages: Vec<serde_json::Value> = w.events(id).into_iter().filter(|e| e["type"] == "usage").collect();
    assert_eq!(usages.len(), 3, "{usages:#?}");
    let result = w.json(&["cost", "--by", "task"]);
    let run_cost = t["runs"][0]["cost_usd"].as_f64().unwrap();
    assert!((result["total_usd"].as_f64().unwrap() - run_cost).abs() < 1e-9);
    assert!((run_cost - 1.2).abs() < 1e-3, "Claude Code's figure for two calls of 200k input: {run_cost}");
}

#[test]
fn a_newcomer_needs_no_profile_file_when_claude_code_is_installed() {
    let Some(claude) = cli("claude") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::Anthropic, Turn::text("Hello from the built-in profile.")));
    let mut w = World::new("app");
    w.start_with_env(
        &[],
        &[
            ("BOSUN_CLAUDE_PATH", claude.to_str().unwrap()),
            // Claude Code's own variables pass from the daemon's environment.
            ("ANTHROPIC_BASE_URL", &mock.base_url()),
            ("ANTHROPIC_API_KEY", "sk-test"),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
            ("DISABLE_TELEMETRY", "1"),
            ("DISABLE_AUTOUPDATER", "1"),
        ],
    );
    let human = w.bosun(&["agents"]);
    assert!(human.lines().any(|l| l.starts_with("claude ") && l.ends_with("(built-in)")), "{human}");
    let id = add(&w, &["--", "Say hello"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["agent"], "claude");
    assert!(w.events(id).iter().any(|e| e["type"] == "message" && e["text"] == "Hello from the built-in profile."));
}
