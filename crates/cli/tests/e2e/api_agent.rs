//! The built-in `api` runtime (`bosun-api-agent`) end to end: the real daemon starts
//! the real agent binary against the scripted mock model, in each of the four wire
//! formats; tools, approvals, say, interrupt, reply, retries, the ledger and budgets.

use std::time::Duration;

use bosun_mock_model::{Family, MockModel, Recorded, Script, Turn, Usage};
use serde_json::{Value, json};

use crate::harness::{World, wait_for};
use crate::real_clis::mock;

const WAIT: Duration = Duration::from_secs(30);

/// The provider name and base URL a family is reached at.
fn provider(family: Family, mock: &MockModel) -> (&'static str, String) {
    match family {
        Family::Chat => ("openai-compatible", format!("{}/v1", mock.url)),
        Family::Anthropic => ("anthropic", format!("{}/v1", mock.url)),
        Family::OpenAi => ("openai", format!("{}/v1", mock.url)),
        Family::Gemini | Family::GeminiSide => ("gemini", format!("{}/v1beta", mock.url)),
    }
}

/// Writes an `api` profile for `family` at the mock; `extra` front matter lines.
fn api_profile(w: &World, name: &str, family: Family, mock: &MockModel, extra: &str) {
    let (provider, base_url) = provider(family, mock);
    let profile = format!(
        "---\nname: {name}\nruntime: api\nprovider: {provider}\nbase_url: {base_url}\nmodel: mock-model\nkey_env: MOCK_API_KEY\n{extra}---\nYou write crisp analyses.\n"
    );
    std::fs::write(w.path(&format!("config/agents/{name}.md")), profile).unwrap();
}

fn start(w: &mut World) {
    w.start_with_env(&[], &[("MOCK_API_KEY", "sk-mock-secret")]);
}

/// A scratch task (no repo) for `agent`; its id.
fn add_scratch(w: &World, title: &str, agent: &str) -> i64 {
    w.bosun(&["add", "--agent", agent, "--", title]).lines().next().unwrap().trim().parse().unwrap()
}

fn has(events: &[Value], pred: impl Fn(&Value) -> bool) -> bool {
    events.iter().any(pred)
}

/// The `deliver` tool's line, taken by bosun as a `deliverable` event.
fn delivered(events: &[Value], path: &str) -> bool {
    has(events, |e| e["type"] == "deliverable" && e["path"] == path)
}

fn body(r: &Recorded) -> String {
    r.body.to_string()
}

fn calls(rt: &tokio::runtime::Runtime, mock: &MockModel, family: Family, n: usize) -> Vec<Recorded> {
    rt.block_on(mock.wait_for_requests_for(family, n, WAIT)).unwrap()
}

const FAMILIES: [Family; 4] = [Family::Chat, Family::Anthropic, Family::OpenAi, Family::Gemini];

#[test]
fn in_every_wire_format_the_model_writes_and_delivers_through_a_429_and_three_500s_fail_clearly() {
    let analysis = "# Pricing\n\nAcme: $10, Globex: $12 \"per seat\".\n";
    let mut script = Script::new();
    for family in FAMILIES {
        script.push(family, Turn { retry_after: Some(1), ..Turn::error(429) });
        // Arguments streamed five characters at a time (Gemini sends calls whole).
        script.push(family, Turn::tool("write", json!({"path": "analysis.md", "content": analysis})).split(5));
        script.push(family, Turn::tool("deliver", json!({"path": "analysis.md", "description": "the analysis"})).split(3));
        script.push(family, Turn::text("Wrote and delivered the analysis.").split(4));
    }
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    for family in FAMILIES {
        api_profile(&w, &format!("{family:?}").to_lowercase(), family, &mock, "");
    }
    start(&mut w);
    let ids: Vec<(Family, i64)> = FAMILIES
        .iter()
        .map(|f| (*f, add_scratch(&w, "Competitor pricing analysis: Acme, Globex", &format!("{f:?}").to_lowercase())))
        .collect();
    for (family, id) in &ids {
        let t = w.wait_status(*id, "review");
        let dir = std::path::PathBuf::from(t["worktree"].as_str().unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("analysis.md")).unwrap(), analysis, "{family:?}");
        let events = w.events(*id);
        assert!(has(&events, |e| e["type"] == "session" && e["session_id"].as_str().is_some_and(|s| s.starts_with("api-"))), "{family:?}");
        assert!(has(&events, |e| e["type"] == "tool_call" && e["name"] == "write" && e["kind"] == "write" && e["path"] == "analysis.md"));
        assert!(has(&events, |e| e["type"] == "approval" && e["by"] == "policy" && e["allow"] == true), "a write inside asks the policy");
        assert!(has(&events, |e| e["type"] == "file_change" && e["path"] == "analysis.md" && e["change"] == "added"));
        assert!(delivered(&events, "analysis.md"), "{family:?}: {events:#?}");
        let out = w.bosun(&["show", &id.to_string()]);
        assert!(out.contains("analysis.md") && out.contains("the analysis"), "{family:?}: listed as a deliverable: {out}");
        assert!(has(&events, |e| e["type"] == "message" && e["text"] == "Wrote and delivered the analysis."), "{family:?}");
        let retried = |e: &Value| {
            e["type"] == "output" && e["line"].as_str().is_some_and(|l| l.contains("HTTP 429") && l.contains("trying again in 1.0s"))
        };
        assert!(has(&events, retried), "{family:?}: the 429's Retry-After was honoured: {events:#?}");
        let run = &t["runs"][0];
        assert_eq!(
            (run["input_tokens"].as_u64(), run["output_tokens"].as_u64()),
            (Some(30), Some(15)),
            "{family:?}: three answered calls: {run}"
        );
        // The model saw the task, its instructions, and each tool's result in the next request.
        let requests = mock.requests_for(*family);
        assert_eq!(requests.len(), 4, "{family:?}: the 429, then three");
        let first = body(&requests[1]);
        assert!(first.contains("Competitor pricing analysis") && first.contains("You write crisp analyses."), "{first}");
        assert!(body(&requests[2]).contains(&format!("wrote {} bytes to analysis.md", analysis.len())), "{family:?}");
        assert!(body(&requests[3]).contains("delivered analysis.md"), "{family:?}");
        // The key went in the vendor's header, and nowhere into bosun's records.
        let headers = &requests[1].headers;
        let sent = headers.get("authorization").or(headers.get("x-api-key")).or(headers.get("x-goog-api-key")).cloned().unwrap_or_default();
        assert!(sent.contains("sk-mock-secret"), "{family:?}: {headers:?}");
        assert!(!serde_json::to_string(&events).unwrap().contains("sk-mock-secret"));
    }

    // Three 500s: a clear failure, after three attempts.
    for family in FAMILIES {
        for _ in 0..3 {
            mock.push(family, Turn::error(500));
        }
    }
    let ids: Vec<(Family, i64)> = FAMILIES.iter().map(|f| (*f, add_scratch(&w, "Fail", &format!("{f:?}").to_lowercase()))).collect();
    for (family, id) in ids {
        w.wait_status(id, "failed");
        let events = w.events(id);
        let gave_up = |e: &Value| {
            e["type"] == "error" && e["message"].as_str().is_some_and(|m| m.starts_with("the model API failed 3 times, last: HTTP 500"))
        };
        assert!(has(&events, gave_up), "{family:?}: {events:#?}");
        assert_eq!(mock.requests_for(family).len(), 7, "{family:?}: three attempts, no more");
    }
    drop(rt);
}

#[test]
fn edit_refuses_a_non_unique_string_and_paths_out_of_the_workspace_are_refused() {
    let script = Script::new()
        .turn(Family::Chat, Turn::tool("write", json!({"path": "notes.md", "content": "tier\ntier\n"})))
        .turn(Family::Chat, Turn::tool("edit", json!({"path": "notes.md", "old_string": "tier", "new_string": "plan"})))
        .turn(Family::Chat, Turn::tool("read", json!({"path": "../secret.txt"})))
        .turn(Family::Chat, Turn::tool("write", json!({"path": "/tmp/bosun-api-agent-escape.txt", "content": "x"})))
        .turn(Family::Chat, Turn::tool("read", json!({"path": "outside/secret.txt"})))
        .turn(Family::Chat, Turn::tool("edit", json!({"path": "notes.md", "old_string": "tier\ntier", "new_string": "plan"})))
        .turn(Family::Chat, Turn::text("done"));
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    std::fs::write(w.path("shared/secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink(w.path("shared"), w.repo.join("outside")).unwrap();
    std::fs::write(w.repo.join("AGENTS.md"), "Always write British English.\n").unwrap();
    crate::harness::git(&w.repo, &["add", "outside", "AGENTS.md"]);
    crate::harness::git(&w.repo, &["commit", "-q", "-m", "a symlink out"]);
    api_profile(&w, "analyst", Family::Chat, &mock, "");
    start(&mut w);
    let id = w.add("Edit the notes", "analyst");
    let t = w.wait_status(id, "review");
    let r = calls(&rt, &mock, Family::Chat, 7);
    assert!(body(&r[0]).contains("Always write British English."), "a repo task's AGENTS.md is in the first request");
    assert!(body(&r[2]).contains("old_string occurs 2 times in notes.md"), "{}", body(&r[2]));
    assert!(body(&r[3]).contains("leaves the workspace"), "{}", body(&r[3]));
    assert!(body(&r[4]).contains("is an absolute path"), "{}", body(&r[4]));
    assert!(body(&r[5]).contains("leads out of the workspace through a symlink"), "{}", body(&r[5]));
    assert!(!r.iter().any(|r| body(r).contains("top secret")));
    assert!(!std::path::Path::new("/tmp/bosun-api-agent-escape.txt").exists());
    assert!(body(&r[6]).contains("replaced 1 occurrence(s) in notes.md"));
    let dir = std::path::PathBuf::from(t["worktree"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(dir.join("notes.md")).unwrap(), "plan\n");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "tool_result"
        && e["is_error"] == true
        && e["output"].as_str().is_some_and(|o| o.contains("occurs 2 times"))));
}

#[test]
fn older_tool_results_are_compacted_near_the_window_and_max_turns_ends_the_run() {
    let mut script = Script::new();
    for _ in 0..7 {
        script.push(Family::Chat, Turn::tool("read", json!({"path": "big.md"})));
    }
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    std::fs::write(w.repo.join("big.md"), "a line of the big file\n".repeat(60)).unwrap();
    crate::harness::git(&w.repo, &["add", "big.md"]);
    crate::harness::git(&w.repo, &["commit", "-q", "-m", "big"]);
    api_profile(&w, "reader", Family::Chat, &mock, "context_window: 2048\nmax_turns: 6\n");
    start(&mut w);
    let id = w.add("Read a lot", "reader");
    w.wait_status(id, "failed");
    let r = calls(&rt, &mock, Family::Chat, 6);
    assert_eq!(mock.requests_for(Family::Chat).len(), 6, "max_turns requests, no more");
    assert!(!body(&r[2]).contains("[compacted by bosun"));
    assert!(body(&r[5]).contains("[compacted by bosun"), "{}", body(&r[5]));
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "output" && e["line"].as_str().is_some_and(|l| l.starts_with("context compacted: "))));
    assert!(has(&events, |e| e["type"] == "error" && e["message"].as_str().is_some_and(|m| m.starts_with("stopped after max_turns (6)"))));
}

#[test]
fn run_asks_under_permissions_ask_a_denial_reaches_the_model_and_an_approval_runs_it() {
    let script = Script::new()
        .turn(Family::Chat, Turn::tool("run", json!({"command": "echo ran > ran.txt"})))
        .turn(Family::Chat, Turn::tool("run", json!({"command": "echo ran > ran.txt"})))
        .turn(Family::Chat, Turn::text("ran it"));
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    api_profile(&w, "careful", Family::Chat, &mock, "permissions: ask\n");
    start(&mut w);
    let id = w.add("Run something", "careful");
    w.wait_status(id, "needs_input");
    let pending = w.json(&["approvals"]);
    assert_eq!((pending[0]["tool"].as_str(), pending[0]["command"].as_str()), (Some("run"), Some("echo ran > ran.txt")), "{pending}");
    w.bosun(&["deny", &id.to_string(), "--reason", "not now"]);
    let r = calls(&rt, &mock, Family::Chat, 2);
    assert!(body(&r[1]).contains("the user denied this command: not now"), "{}", body(&r[1]));
    w.wait_status(id, "needs_input");
    w.bosun(&["approve", &id.to_string()]);
    let t = w.wait_status(id, "review");
    let r = calls(&rt, &mock, Family::Chat, 3);
    assert!(body(&r[2]).contains("[exit code 0]"), "{}", body(&r[2]));
    let dir = std::path::PathBuf::from(t["worktree"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(dir.join("ran.txt")).unwrap(), "ran\n");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "tool_result" && e["kind"] == "command" && e["exit_code"] == 0));
}

#[test]
fn say_lands_in_the_next_request_reply_resumes_the_conversation_and_interrupt_ends_a_slow_turn() {
    let script = Script::new()
        .turn(Family::Chat, Turn { delay_ms: 3000, ..Turn::tool("list", json!({})) })
        .turn(Family::Chat, Turn::text("Covered the enterprise tiers."))
        .turn(Family::Chat, Turn::text("Shorter now."))
        .turn(Family::Chat, Turn { chunk_delay_ms: 60_000, ..Turn::text("a very slow answer") })
        .turn(Family::Chat, Turn::text("Picked it up again."));
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    api_profile(&w, "analyst", Family::Chat, &mock, "");
    start(&mut w);
    let id = add_scratch(&w, "Competitor pricing analysis", "analyst");
    calls(&rt, &mock, Family::Chat, 1);
    w.bosun(&["say", &id.to_string(), "include the enterprise tiers"]);
    w.wait_status(id, "review");
    let r = calls(&rt, &mock, Family::Chat, 2);
    assert!(!body(&r[0]).contains("include the enterprise tiers"));
    assert!(body(&r[1]).contains("include the enterprise tiers"), "{}", body(&r[1]));

    w.bosun(&["reply", &id.to_string(), "shorter, and a table per competitor"]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    let r = calls(&rt, &mock, Family::Chat, 3);
    let resumed = body(&r[2]);
    assert!(resumed.contains("shorter, and a table per competitor"), "{resumed}");
    assert!(resumed.contains("Competitor pricing analysis") && resumed.contains("Covered the enterprise tiers."), "the history: {resumed}");
    let events = w.events(id);
    let sessions: Vec<&Value> = events.iter().filter(|e| e["type"] == "session").map(|e| &e["session_id"]).collect();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0], sessions[1], "one conversation");

    // A slow stream is cut short by an interrupt: the turn ends, the run is stopped.
    w.bosun(&["reply", &id.to_string(), "one more thing"]);
    calls(&rt, &mock, Family::Chat, 4);
    w.bosun(&["interrupt", &id.to_string()]);
    let t = w.wait_status(id, "stopped");
    assert_eq!(t["runs"][2]["status"], "stopped", "{t}");
    let events = w.events(id);
    assert!(has(&events, |e| e["type"] == "output"
        && e["line"].as_str().is_some_and(|l| l.contains("interrupted: the model request was cancelled"))));

    // And a reply after the interrupt goes on from there.
    w.bosun(&["reply", &id.to_string(), "go on"]);
    w.wait_status(id, "review");
    let r = calls(&rt, &mock, Family::Chat, 5);
    let after = body(&r[4]);
    assert!(after.contains("one more thing") && after.contains("go on") && after.contains("Shorter now."), "{after}");
}

#[test]
fn usage_reaches_the_ledger_and_a_budget_stop_sends_no_further_request() {
    // $3 per million input tokens: the first call alone costs $0.30.
    let big = Usage { input_tokens: 100_000, output_tokens: 0, ..Usage::default() };
    let script = Script::new()
        .turn(Family::Chat, Turn::tool("write", json!({"path": "a.md", "content": "a"})).with_usage(big.clone()))
        .turn(Family::Chat, Turn::text("never asked"));
    let (rt, mock) = mock(script);
    let mut w = World::new("app");
    let (provider, base_url) = provider(Family::Chat, &mock);
    let profile = format!("---\nname: spender\nruntime: api\nprovider: {provider}\nbase_url: {base_url}\nmodel: claude-sonnet-4-5\n---\n");
    std::fs::write(w.path("config/agents/spender.md"), profile).unwrap();
    start(&mut w);
    let id: i64 = w.bosun(&["add", "--agent", "spender", "--budget", "0.1", "--", "Spend"]).lines().next().unwrap().trim().parse().unwrap();
    w.wait_status(id, "needs_input");
    calls(&rt, &mock, Family::Chat, 1);
    let total = w.json(&["cost", "--by", "task"])["total_usd"].as_f64().unwrap();
    assert!((total - 0.3).abs() < 1e-6, "the ledger has the call priced: {total}");
    wait_for("the run to have ended", || (w.task(id)["runs"][0]["status"] != "running").then_some(()));
    assert_eq!(mock.requests_for(Family::Chat).len(), 1, "no request after the budget stop");
}

#[test]
fn agents_probes_an_openai_compatible_server_and_says_when_nothing_answers() {
    let (_rt, mock) = mock(Script::new());
    let mut w = World::new("app");
    api_profile(&w, "local", Family::Chat, &mock, "");
    let dead = "---\nname: dead\nruntime: api\nprovider: openai-compatible\nbase_url: http://127.0.0.1:9/v1\nmodel: qwen3:8b\n---\n";
    std::fs::write(w.path("config/agents/dead.md"), dead).unwrap();
    start(&mut w);
    let out = w.bosun(&["agents"]);
    assert!(out.contains("mock-model"), "the server's models are listed: {out}");
    assert!(out.contains("nothing answers at http://127.0.0.1:9/v1"), "{out}");
    let agents = w.json(&["agents"]);
    let local = agents["agents"].as_array().unwrap().iter().find(|a| a["name"] == "local").unwrap().clone();
    assert_eq!((local["endpoint"]["ok"].as_bool(), local["installed"]["ok"].as_bool()), (Some(true), Some(true)), "{local}");

    // A key the daemon does not have: the run fails saying which.
    let keyless = format!(
        "---\nname: keyless\nruntime: api\nprovider: openai-compatible\nbase_url: {}/v1\nmodel: m\nkey_env: BOSUN_TEST_NO_SUCH_KEY\n---\n",
        mock.url
    );
    std::fs::write(w.path("config/agents/keyless.md"), keyless).unwrap();
    let id = add_scratch(&w, "No key", "keyless");
    w.wait_status(id, "failed");
    let events = w.events(id);
    let said = |e: &Value| {
        e["type"] == "error" && e["message"].as_str().is_some_and(|m| m.contains("`BOSUN_TEST_NO_SUCH_KEY`") && m.contains("is not set"))
    };
    assert!(has(&events, said), "{events:#?}");
    assert!(mock.requests_for(Family::Chat).is_empty());
}

#[test]
fn an_api_agent_waiting_for_an_answer_survives_a_daemon_restart() {
    let ask = Turn::tool("run", json!({"command": "echo checked > check.txt"}));
    let (_rt, mock) = mock(Script::new().turn(Family::Chat, ask).turn(Family::Chat, Turn::text("Checked.")));
    let mut w = World::new("app");
    api_profile(&w, "agent", Family::Chat, &mock, "");
    start(&mut w);
    let agent = std::path::PathBuf::from(env!("CARGO_BIN_EXE_bosun-api-agent"));
    crate::survive::a_real_cli_waiting_for_an_answer_survives_a_restart(w, ("BOSUN_API_AGENT_PATH", &agent));
    assert_eq!(mock.requests_for(Family::Chat).len(), 2, "the conversation went on in the same process");
}
