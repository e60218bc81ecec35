//! A stopped, interrupted or daemon-cut-off task continues in its own agent session:
//! `reply` (and `say`) resume the runtime's session with the message, so the model
//! sees the earlier conversation; `retry` starts over in a new session, except after
//! the daemon cut the run off. The real Claude Code CLI against the mock model, which
//! records every request.

use bosun_mock_model::{Family, MockModel, Script, Turn};

use crate::harness::{World, wait_for};
use crate::real_clis::{claude_profile, cli, mock};

/// A model call that would answer in two minutes: the run is mid-turn until cut short.
fn slow() -> Turn {
    Turn { delay_ms: 120_000, ..Turn::text("too late") }
}

/// Waits until the model has been called more than `before` times.
fn called(mock: &MockModel, before: usize) {
    wait_for("the model call", || (mock.requests_for(Family::Anthropic).len() > before).then_some(()));
}

/// The last model request that carries `text` (it is the one the message started).
fn request_with(mock: &MockModel, text: &str) -> String {
    let requests = mock.requests_for(Family::Anthropic);
    requests.iter().rev().map(|r| r.body.to_string()).find(|b| b.contains(text)).unwrap_or_else(|| panic!("no request carries {text:?}"))
}

/// Waits until Claude Code's transcript of `session` holds `text` (it writes it a
/// little after it calls the model).
fn transcript_has(w: &World, session: &str, text: &str) {
    let file = format!("{session}.jsonl");
    wait_for("the transcript on disk", || {
        let projects = std::fs::read_dir(w.path("home/.claude/projects")).ok()?;
        let found = projects.flatten().map(|d| d.path().join(&file)).find(|p| p.exists())?;
        std::fs::read_to_string(found).ok()?.contains(text).then_some(())
    });
}

fn sessions(w: &World, id: i64) -> Vec<String> {
    w.events(id).iter().filter(|e| e["type"] == "session").map(|e| e["session_id"].as_str().unwrap().to_string()).collect()
}

/// Starts a turn that hangs: a reply (or the task's first run), then waits for its call.
fn hang(w: &World, mock: &MockModel, id: i64, reply: Option<&str>) {
    mock.push(Family::Anthropic, slow());
    let before = mock.requests_for(Family::Anthropic).len();
    if let Some(text) = reply {
        w.bosun(&["reply", &id.to_string(), text]);
    }
    called(mock, before);
    wait_for("the run to be running", || (w.task(id)["status"] == "running").then_some(()));
}

#[test]
fn stopped_and_interrupted_claude_tasks_continue_their_session_and_retry_starts_over() {
    let Some(claude) = cli("claude") else { return };
    let (_rt, mock) = mock(Script::new());
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);

    // stop -> reply: the same session, with the history.
    mock.push(Family::Anthropic, slow());
    let id = w.add("Think about the cache", "claude");
    called(&mock, 0);
    let session = wait_for("the session", || sessions(&w, id).pop());
    transcript_has(&w, &session, "Think about the cache");
    w.bosun(&["stop", &id.to_string()]);
    w.wait_status(id, "stopped");
    let first = sessions(&w, id);
    assert_eq!(first, [session], "the run reported its session");
    mock.push(Family::Anthropic, Turn::text("Cache considered."));
    let out = w.bosun(&["reply", &id.to_string(), "continue with the cache eviction"]);
    assert!(out.contains("continues the agent's session with your message"), "{out}");
    w.wait_status(id, "review");
    let resumed = request_with(&mock, "continue with the cache eviction");
    assert!(resumed.contains("Think about the cache"), "the earlier conversation came along: {resumed}");
    assert!(!resumed.contains("# Messages from the user"), "not a new session's prompt: {resumed}");
    assert_eq!(sessions(&w, id).last(), first.last(), "the same session");

    // interrupt -> reply.
    hang(&w, &mock, id, Some("now look at the index"));
    w.bosun(&["interrupt", &id.to_string()]);
    assert_eq!(w.wait_status(id, "stopped")["status_reason"], "turn interrupted by user");
    mock.push(Family::Anthropic, Turn::text("Index checked."));
    w.bosun(&["reply", &id.to_string(), "the index, briefly"]);
    w.wait_status(id, "review");
    let resumed = request_with(&mock, "the index, briefly");
    assert!(resumed.contains("Think about the cache") && resumed.contains("continue with the cache eviction"), "{resumed}");

    // interrupt -> say: continues it too, and says so.
    hang(&w, &mock, id, Some("and the logs"));
    w.bosun(&["interrupt", &id.to_string()]);
    w.wait_status(id, "stopped");
    mock.push(Family::Anthropic, Turn::text("Logs read."));
    let said = w.bosun(&["say", &id.to_string(), "the logs, quickly"]);
    assert!(said.contains("had ended, so it continues") && said.contains("continues the agent's session"), "{said}");
    w.wait_status(id, "review");
    let resumed = request_with(&mock, "the logs, quickly");
    assert!(resumed.contains("Think about the cache") && resumed.contains("the index, briefly"), "{resumed}");
    assert_eq!(sessions(&w, id).last(), first.last(), "still the same session");

    // stop -> retry: starts over, in a new session, with the task and not the history.
    hang(&w, &mock, id, Some("one more thing"));
    w.bosun(&["stop", &id.to_string()]);
    w.wait_status(id, "stopped");
    mock.push(Family::Anthropic, Turn::text("Started over."));
    let before = mock.requests_for(Family::Anthropic).len();
    let out = w.bosun(&["retry", &id.to_string()]);
    assert!(out.contains("starts over in a new session"), "{out}");
    w.wait_status(id, "review");
    let fresh = mock.requests_for(Family::Anthropic)[before].body.to_string();
    assert!(fresh.contains("Think about the cache"), "the task's prompt: {fresh}");
    assert!(!fresh.contains("the logs, quickly"), "no earlier conversation: {fresh}");
    assert_ne!(sessions(&w, id).last(), first.last(), "a new session");
}

#[test]
fn a_claude_task_the_daemon_cut_off_continues_its_session_on_retry() {
    let Some(claude) = cli("claude") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::Anthropic, slow()));
    let mut w = World::new("app");
    claude_profile(&w, "claude", &mock, "");
    let env = [("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())];
    w.start_with_env(&[], &env);
    let id = w.add("Think about the cache", "claude");
    called(&mock, 0);
    let session = wait_for("the session", || sessions(&w, id).pop());
    // Once Claude Code has its conversation on disk, the machine dies: the daemon and
    // the agent's holder with it, so the run cannot be taken back (nobody asked it to
    // stop).
    transcript_has(&w, &session, "Think about the cache");
    w.kill_daemon();
    for pid in w.holders() {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    // Dead, not dying: a dying holder's socket still takes connections for a moment.
    wait_for("the holder to be gone", || w.holders().is_empty().then_some(()));
    w.start_with_env(&[], &env);
    w.wait_status(id, "interrupted");

    mock.push(Family::Anthropic, Turn::text("Picked up again."));
    let before = mock.requests_for(Family::Anthropic).len();
    let out = w.bosun(&["retry", &id.to_string()]);
    assert!(out.contains("continues the agent's session"), "{out}");
    w.wait_status(id, "review");
    let resumed = mock.requests_for(Family::Anthropic)[before].body.to_string();
    assert!(resumed.contains("Continue the task where you left off"), "{resumed}");
    assert_eq!(sessions(&w, id).last(), Some(&session));
}

#[test]
fn a_stopped_codex_task_continues_its_thread_on_reply() {
    let Some(codex) = cli("codex") else { return };
    let (_rt, mock) = mock(Script::new().turn(Family::OpenAi, slow()));
    let mut w = World::new("app");
    crate::codex::codex_profile(&w, "codex", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    let id = w.add("Think about the cache", "codex");
    wait_for("the model call", || (!mock.requests_for(Family::OpenAi).is_empty()).then_some(()));
    let thread = wait_for("the thread", || sessions(&w, id).pop());
    w.bosun(&["stop", &id.to_string()]);
    w.wait_status(id, "stopped");
    mock.push(Family::OpenAi, Turn::text("Cache considered."));
    let out = w.bosun(&["reply", &id.to_string(), "continue with the cache eviction"]);
    assert!(out.contains("continues the agent's session"), "{out}");
    w.wait_status(id, "review");
    let requests = mock.requests_for(Family::OpenAi);
    let resumed = requests.iter().rev().map(|r| r.body.to_string()).find(|b| b.contains("continue with the cache eviction")).unwrap();
    assert!(resumed.contains("Think about the cache") && !resumed.contains("# Messages from the user"), "{resumed}");
    assert_eq!(sessions(&w, id).last(), Some(&thread), "thread/resume: the same thread");
}
