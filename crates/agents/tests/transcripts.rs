//! The Claude Code, Codex and Gemini CLI drivers fed transcripts recorded from the real
//! CLIs (`tests/transcripts/`, see its README), so their parsing is tested without node.
//!
//! Each test starts its runtime through the real `runtime::spawn`, with the CLI replaced
//! by a relay (`sh` and three `cat`s over named pipes) that lets the test play the CLI's
//! side of the recorded dialogue: the CLI's lines go out when the transcript has them, and
//! every line bosun wrote in the recording is awaited and compared with what the driver
//! writes now, as is the moment it closes stdin. The normalized events that come out are
//! compared in full with concrete values. Production code is unchanged: the relay is
//! found through `BOSUN_CLAUDE_PATH`, `BOSUN_CODEX_PATH` and `BOSUN_GEMINI_PATH`.

use std::path::Path;

use bosun_agents::AgentCommand;
use bosun_core::{AgentProfile, EventKind, FileChangeKind, OutputStream, Runtime, ToolKind};
use serde_json::json;

mod replay;
use replay::*;

fn claude() -> AgentProfile {
    let mut p = AgentProfile::new("claude", Runtime::ClaudeCode);
    p.model = Some("claude-sonnet-4-5".into());
    p
}

#[tokio::test]
async fn claude_write_asked_allowed_and_done() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_string_lossy().into_owned();
    let file = format!("{w}/hello.txt");
    let input = json!({"file_path": file, "content": "hello from claude\n"});
    let r = replay("claude-write-approve", claude(), dir.path(), FIRST, answer(true, None)).await;
    // (The allow echoes the asked input as `updatedInput`: checked against the recording.)
    assert_eq!(
        r.events,
        [
            session("99600f36-d590-4304-b499-5e057d2e2c44"),
            // Each model response's usage as it arrives (priced by bosun) ...
            usage(10, 5, None),
            EventKind::ToolCall {
                id: Some("toolu_mock_0_0".into()),
                kind: ToolKind::Write,
                name: "Write".into(),
                path: Some(file.clone()),
                command: None,
                input: Some(input.clone()),
            },
            EventKind::ApprovalRequest {
                id: "c6e61e67-e912-4e8d-af7a-632f5089c27a".into(),
                tool: "Write".into(),
                kind: Some(ToolKind::Write),
                command: None,
                path: Some(file.clone()),
                input: Some(input),
            },
            EventKind::ToolResult {
                id: Some("toolu_mock_0_0".into()),
                kind: Some(ToolKind::Write),
                output: Some(format!(
                    "File created successfully at: {file} (file state is current in your context — no need to Read it back)"
                )),
                exit_code: None,
                is_error: false,
            },
            EventKind::FileChange { path: file, change: FileChangeKind::Added, diff: None },
            usage(10, 5, None),
            message("I wrote hello.txt."),
            // ... then the turn's result: two model calls of 10 in, 5 out, all reported
            // already, and the cost as Claude Code priced the turn.
            usage(0, 0, Some(0.00021)),
        ]
    );
    assert_eq!(r.stderr, []);
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn claude_command_asked_and_denied_with_a_reason() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let input = json!({"command": "rm -rf /tmp/precious", "description": "Clean"});
    let r = replay("claude-bash-deny", claude(), dir.path(), FIRST, answer(false, Some("not in prod"))).await;
    assert_eq!(
        r.events,
        [
            session("e0d595e5-aa87-4ffc-b26b-fbaee5c6d7ab"),
            usage(10, 5, None),
            EventKind::ToolCall {
                id: Some("toolu_mock_0_0".into()),
                kind: ToolKind::Command,
                name: "Bash".into(),
                path: None,
                command: Some("rm -rf /tmp/precious".into()),
                input: Some(input.clone()),
            },
            EventKind::ApprovalRequest {
                id: "9554a51b-692c-4e47-b7c3-402bf54744ca".into(),
                tool: "Bash".into(),
                kind: Some(ToolKind::Command),
                command: Some("rm -rf /tmp/precious".into()),
                path: None,
                input: Some(input),
            },
            // The denial's message comes back as the tool's (failed) result.
            EventKind::ToolResult {
                id: Some("toolu_mock_0_0".into()),
                kind: Some(ToolKind::Command),
                output: Some("not in prod".into()),
                exit_code: None,
                is_error: true,
            },
            usage(10, 5, None),
            message("Understood, I will not delete it."),
            usage(0, 0, Some(0.00021)),
        ]
    );
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn claude_api_error_ends_the_turn_with_an_error() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let why = "Failed to authenticate. API Error: 403 bosun-mock-model: scripted HTTP 403";
    let r = replay("claude-api-error", claude(), dir.path(), FIRST, |_| None).await;
    assert_eq!(
        r.events,
        [
            session("e563c1bb-e822-4baf-b32c-517732460440"),
            // Claude Code reports the failure as a `<synthetic>` assistant message too,
            // which the driver passes on as the agent's message.
            message(why),
            usage(0, 0, Some(0.0)),
            error(&format!("Claude Code: {why}")),
        ]
    );
    // Claude Code exits 1 here (see the transcript): its exit code fails the run.
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn claude_interrupt_is_a_control_request_and_ends_the_turn() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    // Interrupted while the model is still thinking: as soon as the session is known.
    let react = |e: &EventKind| matches!(e, EventKind::Session { .. }).then_some(AgentCommand::Interrupt);
    let r = replay("claude-interrupt", claude(), dir.path(), FIRST, react).await;
    assert_eq!(
        r.events,
        [session("c551f207-91e5-41b8-973d-48c8337da6dc"), usage(0, 0, Some(0.0)), error("Claude Code: error_during_execution")]
    );
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn claude_reply_resumes_the_session_and_counts_only_the_new_cost() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let session_id = "4e0c97e6-c55e-4326-a7f0-1f2f14a1d736";
    // The first run cost $0.000105; Claude Code's total_cost_usd (0.00021) counts it again.
    let run = Run { task: REPLY, resume: Some(session_id), prior_cost: 0.000105, hold: None };
    let r = replay("claude-resume", claude(), dir.path(), run, |_| None).await;
    // (`--resume <id>` is checked with the rest of the arguments.)
    assert_eq!(r.events, [session(session_id), usage(10, 5, None), message("Logout is covered."), usage(0, 0, Some(0.000105))]);
    assert_eq!(r.failure, None);
}

// ---- Codex: app-server JSON-RPC ----

/// The Codex profile as recorded: its provider arguments are in the transcript.
fn codex(name: &str, workdir: &Path) -> AgentProfile {
    let mut p = AgentProfile::new("codex", Runtime::Codex);
    p.model = Some("gpt-5.5".into());
    let argv = load(name, workdir).argv;
    // app-server, the profile's arguments, then the model as `-c model="..."`.
    assert_eq!((argv[0].as_str(), &argv[argv.len() - 2..]), ("app-server", &["-c".to_string(), "model=\"gpt-5.5\"".to_string()][..]));
    p.args = argv[1..argv.len() - 2].to_vec();
    p
}

const BUBBLEWRAP: &str = "Codex could not find bubblewrap on PATH. Install bubblewrap with your OS package manager. See the sandbox prerequisites: https://developers.openai.com/codex/concepts/sandboxing#prerequisites. Codex will use the bundled bubblewrap in the meantime.";

#[tokio::test]
async fn codex_patch_and_command_asked_allowed_and_done() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_string_lossy().into_owned();
    let file = format!("{w}/hello.txt");
    let name = "codex-patch-and-command";
    let r = replay(name, codex(name, dir.path()), dir.path(), FIRST, answer(true, None)).await;
    let changes = json!([{"path": file, "kind": "add", "move_path": null}]);
    let shell = "/bin/bash -lc 'echo checked > check.txt'";
    assert_eq!(
        r.events,
        [
            stdout_line(&format!("Codex configWarning: {BUBBLEWRAP}")),
            session("01a230ad-4fa5-7883-9378-cd42725f247d"),
            EventKind::ToolCall {
                id: Some("call_mock_0_0".into()),
                kind: ToolKind::Write,
                name: "apply_patch".into(),
                path: Some(file.clone()),
                command: None,
                input: Some(json!({"changes": changes})),
            },
            // The file change's ask names only the item: its path comes from item/started.
            EventKind::ApprovalRequest {
                id: "0".into(),
                tool: "apply_patch".into(),
                kind: Some(ToolKind::Write),
                command: None,
                path: Some(file.clone()),
                input: Some(json!({"changes": changes, "reason": null, "grantRoot": null})),
            },
            EventKind::ToolResult {
                id: Some("call_mock_0_0".into()),
                kind: Some(ToolKind::Write),
                output: None,
                exit_code: None,
                is_error: false
            },
            EventKind::FileChange { path: file, change: FileChangeKind::Added, diff: Some("hello from codex\n".into()) },
            usage(10, 5, None),
            EventKind::ToolCall {
                id: Some("call_mock_1_0".into()),
                kind: ToolKind::Command,
                name: "Bash".into(),
                path: None,
                command: Some("echo checked > check.txt".into()),
                input: Some(json!({"command": shell, "cwd": w})),
            },
            EventKind::ApprovalRequest {
                id: "1".into(),
                tool: "Bash".into(),
                kind: Some(ToolKind::Command),
                command: Some("echo checked > check.txt".into()),
                path: None,
                input: Some(json!({"command": shell, "cwd": w, "reason": null})),
            },
            EventKind::ToolResult {
                id: Some("call_mock_1_0".into()),
                kind: Some(ToolKind::Command),
                output: None,
                exit_code: Some(0),
                is_error: false
            },
            // Codex's counts are cumulative (15, 30, 45 tokens): each is the difference.
            usage(10, 5, None),
            message("I wrote hello.txt."),
            usage(10, 5, None),
        ]
    );
    assert_eq!(r.stderr, stderr_of(name, dir.path()));
    assert_eq!(r.stderr.len(), 2);
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn codex_command_declined_and_the_reason_follows_as_a_steer() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_string_lossy().into_owned();
    let name = "codex-command-deny";
    // The transcript holds the decline and then `turn/steer` with "Denied: keep the build dir".
    let r = replay(name, codex(name, dir.path()), dir.path(), FIRST, answer(false, Some("keep the build dir"))).await;
    let shell = "/bin/bash -lc 'rm -rf build'";
    assert_eq!(
        r.events,
        [
            stdout_line(&format!("Codex configWarning: {BUBBLEWRAP}")),
            session("01a230ad-526f-7681-bbf2-b5f069fd188b"),
            EventKind::ToolCall {
                id: Some("call_mock_0_0".into()),
                kind: ToolKind::Command,
                name: "Bash".into(),
                path: None,
                command: Some("rm -rf build".into()),
                input: Some(json!({"command": shell, "cwd": w})),
            },
            EventKind::ApprovalRequest {
                id: "0".into(),
                tool: "Bash".into(),
                kind: Some(ToolKind::Command),
                command: Some("rm -rf build".into()),
                path: None,
                input: Some(json!({"command": shell, "cwd": w, "reason": null})),
            },
            // status "declined"
            EventKind::ToolResult {
                id: Some("call_mock_0_0".into()),
                kind: Some(ToolKind::Command),
                output: None,
                exit_code: None,
                is_error: true
            },
            usage(10, 5, None),
            message("Understood, keeping it."),
            usage(10, 5, None),
        ]
    );
    assert_eq!(r.stderr, stderr_of(name, dir.path()));
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn codex_model_error_fails_the_run_though_the_server_exits_0() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let name = "codex-model-error";
    let r = replay(name, codex(name, dir.path()), dir.path(), FIRST, |_| None).await;
    assert_eq!(
        r.events,
        [
            stdout_line(&format!("Codex configWarning: {BUBBLEWRAP}")),
            session("01a230ad-548d-7fe3-9d28-42d9a7b86a6a"),
            // From the `error` notification (its message is the provider's JSON, unwrapped);
            // the failed `turn/completed` after it adds no second error event.
            error("Codex: bosun-mock-model: scripted HTTP 400"),
        ]
    );
    // NB: "Codex: " twice, as the driver words it today.
    assert_eq!(r.failure.as_deref(), Some("Codex: the turn failed: Codex: bosun-mock-model: scripted HTTP 400"));
}

#[tokio::test]
async fn codex_interrupt_is_turn_interrupt_once_the_turn_is_known() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let name = "codex-interrupt";
    // Sent at the session, before the turn has an id: the driver holds it until
    // `turn/start` answers, then sends `turn/interrupt` naming the turn (checked).
    let react = |e: &EventKind| matches!(e, EventKind::Session { .. }).then_some(AgentCommand::Interrupt);
    let r = replay(name, codex(name, dir.path()), dir.path(), FIRST, react).await;
    assert_eq!(r.events, [stdout_line(&format!("Codex configWarning: {BUBBLEWRAP}")), session("01a230b3-4475-73a2-b07d-766a4e4ec588")]);
    // `turn/completed` with status "interrupted" is no failure of Codex's.
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn codex_reply_resumes_the_thread_and_skips_the_history_usage() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let name = "codex-resume";
    let thread = "01a230b3-4035-7932-b964-8041ed412bdd";
    let run = Run { task: REPLY, resume: Some(thread), prior_cost: 0.0, hold: None };
    let r = replay(name, codex(name, dir.path()), dir.path(), run, |_| None).await;
    // `thread/resume` reports the first run's 15 tokens before the turn starts: not
    // counted again; the new call is the difference to them (30 - 15).
    assert_eq!(
        r.events,
        [stdout_line(&format!("Codex configWarning: {BUBBLEWRAP}")), session(thread), message("Logout is covered."), usage(10, 5, None)]
    );
    assert_eq!(r.failure, None);
}

// ---- Gemini CLI: ACP ----

fn gemini() -> AgentProfile {
    let mut p = AgentProfile::new("agent", Runtime::Gemini);
    p.model = Some("gemini-2.5-flash".into());
    p
}

#[tokio::test]
async fn gemini_reads_then_writes_after_asking() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_string_lossy().into_owned();
    let (readme, file) = (format!("{w}/README.md"), format!("{w}/hello.txt"));
    let (read_id, write_id) = ("read_file__read_file_1796113011699_0", "write_file__write_file_1796113011786_0");
    let r = replay("gemini-read-write", gemini(), dir.path(), FIRST, answer(true, None)).await;
    assert_eq!(
        r.events,
        [
            session("f0001113-d6a4-4893-99b3-393b5a453c05"),
            // Gemini gives no tool names: its titles stand in.
            EventKind::ToolCall {
                id: Some(read_id.into()),
                kind: ToolKind::Read,
                name: "README.md".into(),
                path: Some(readme),
                command: None,
                input: None
            },
            EventKind::ToolResult { id: Some(read_id.into()), kind: Some(ToolKind::Read), output: None, exit_code: None, is_error: false },
            // The ask comes before any `tool_call` of the write; with no rawInput, its input
            // is the asked tool call itself.
            EventKind::ApprovalRequest {
                id: "0".into(),
                tool: "Writing to hello.txt".into(),
                kind: Some(ToolKind::Edit),
                command: None,
                path: Some(file.clone()),
                input: Some(json!({
                    "toolCallId": write_id,
                    "status": "pending",
                    "title": "Writing to hello.txt",
                    "content": [{"type": "diff", "path": file, "oldText": "", "newText": "hello from gemini\n", "_meta": {"kind": "add"}}],
                    "locations": [{"path": file}],
                    "kind": "edit",
                })),
            },
            EventKind::ToolCall {
                id: Some(write_id.into()),
                kind: ToolKind::Edit,
                name: "Writing to hello.txt".into(),
                path: Some(file.clone()),
                command: None,
                input: None
            },
            EventKind::ToolResult { id: Some(write_id.into()), kind: Some(ToolKind::Edit), output: None, exit_code: None, is_error: false },
            // An empty oldText: the file is new.
            EventKind::FileChange { path: file, change: FileChangeKind::Added, diff: None },
            message("I wrote hello.txt."),
            // From the prompt's `_meta.quota.token_count`; Gemini CLI reports no cost.
            usage(30, 15, None),
        ]
    );
    assert_eq!(r.stderr, stderr_of("gemini-read-write", dir.path()));
    assert_eq!(r.stderr.len(), 7);
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn gemini_command_asked_and_rejected() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().to_string_lossy().into_owned();
    // The transcript holds the answer: the ask's `reject_once` option, "cancel".
    let r = replay("gemini-shell-deny", gemini(), dir.path(), FIRST, answer(false, Some("keep the build dir"))).await;
    assert_eq!(
        r.events,
        [
            session("6aed5fd7-bd1e-4364-a8b7-2254cd6972de"),
            // The shell tool's title is its command line.
            EventKind::ApprovalRequest {
                id: "0".into(),
                tool: "rm -rf build".into(),
                kind: Some(ToolKind::Command),
                command: Some("rm -rf build".into()),
                path: None,
                input: Some(json!({
                    "toolCallId": "run_shell_command__run_shell_command_1796113013204_0",
                    "status": "pending",
                    "title": "rm -rf build",
                    "content": [{"type": "content", "content": {"type": "text", "text": format!("[current working directory {w}] (Clean)")}}],
                    "locations": [],
                    "kind": "execute",
                })),
            },
            // Gemini CLI sends nothing more about a rejected call: no tool_call, no result.
            message("Understood, keeping it."),
            usage(20, 10, None),
        ]
    );
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn gemini_failed_prompt_fails_the_run() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let r = replay("gemini-prompt-error", gemini(), dir.path(), FIRST, |_| None).await;
    let why =
        r#"Gemini CLI: session/prompt failed: {"error":{"code":400,"message":"bosun-mock-model: scripted HTTP 400","status":"INTERNAL"}}"#;
    assert_eq!(r.events, [session("86953313-8a30-4fbe-a8fe-b5b94504ad3b"), error(why)]);
    assert_eq!(r.failure.as_deref(), Some(why));
    // Its stack trace on stderr stays visible, line by line.
    assert_eq!(r.stderr, stderr_of("gemini-prompt-error", dir.path()));
    assert!(r.stderr.contains(&EventKind::Output { stream: OutputStream::Stderr, line: "  status: 400".into() }));
}

#[tokio::test]
async fn gemini_message_said_during_a_turn_is_the_next_prompt() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    // Said while the first prompt runs, before the model's answer streams in; sent as
    // the transcript's second `session/prompt` once the first one is answered.
    let react = |e: &EventKind| matches!(e, EventKind::Session { .. }).then(|| AgentCommand::Say("use the retry helper".into()));
    let run = Run { hold: Some("Working on it."), ..FIRST };
    let r = replay("gemini-say", gemini(), dir.path(), run, react).await;
    assert_eq!(
        r.events,
        [
            session("df7d59e8-d2f3-41b7-911f-0ba23cf3834c"),
            message("Working on it."),
            usage(10, 5, None),
            message("Using the retry helper."),
            usage(10, 5, None),
        ]
    );
    assert_eq!(r.failure, None);
}

#[tokio::test]
async fn gemini_reply_loads_the_session_without_its_replayed_history() {
    relay();
    let dir = tempfile::tempdir().unwrap();
    let session_id = "00daa2eb-3602-4ff1-ab63-5ec22b56d8b0";
    let run = Run { task: REPLY, resume: Some(session_id), prior_cost: 0.0, hold: None };
    let r = replay("gemini-resume", gemini(), dir.path(), run, |_| None).await;
    // Gemini CLI replays the old conversation around its answer to `session/load` (the
    // old prompt and "First answer." after it, until `available_commands_update`): none
    // of it is reported again. The reply goes in alone, without the instructions.
    assert_eq!(r.events, [session(session_id), message("Logout is covered."), usage(10, 5, None)]);
    assert_eq!(r.failure, None);
}
