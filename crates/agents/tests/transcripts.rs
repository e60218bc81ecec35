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

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use bosun_agents::{AgentCommand, SpawnSpec, runtime};
use bosun_core::{AgentProfile, EventKind, FileChangeKind, OutputStream, Runtime, ToolKind};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// The workspace the transcripts were recorded in; replaced by each test's own.
const RECORDED_WORKDIR: &str = "/tmp/bosun-transcript/work";
const TASK: &str = "Add a greeting";
const INSTRUCTIONS: &str = "You are careful. Keep answers short.";
/// The longest a step of the dialogue may take (no step waits on anything slow).
const STEP: Duration = Duration::from_secs(10);

/// One line of a transcript.
#[derive(Debug)]
enum Step {
    /// A line the CLI printed on stdout (verbatim).
    Stdout(String),
    /// `{"#stderr": "..."}`: a line it printed on stderr.
    Stderr(String),
    /// `{"#sent": {...}}`: a line bosun wrote to the CLI's stdin.
    Sent(Value),
    /// `{"#closed": "stdin"}`: bosun closed the CLI's stdin.
    Closed,
}

struct Transcript {
    /// `{"#argv": [...]}`: the CLI's arguments (after the program).
    argv: Vec<String>,
    steps: Vec<Step>,
}

fn load(name: &str, workdir: &Path) -> Transcript {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts").join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut transcript = Transcript { argv: Vec::new(), steps: Vec::new() };
    for line in text.lines().filter(|l| !l.is_empty()) {
        let line = line.replace(RECORDED_WORKDIR, &workdir.to_string_lossy());
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {line}"));
        let marker = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()).filter(|(k, _)| k.starts_with('#'));
        match marker {
            None => transcript.steps.push(Step::Stdout(line)),
            Some((k, x)) => match k.as_str() {
                "#argv" => transcript.argv = serde_json::from_value(x.clone()).unwrap(),
                "#stderr" => transcript.steps.push(Step::Stderr(x.as_str().unwrap().to_string())),
                "#sent" => transcript.steps.push(Step::Sent(x.clone())),
                "#closed" => transcript.steps.push(Step::Closed),
                "#exit" => {} // the CLI's exit code, for the reader
                other => panic!("{name}: unknown record {other}"),
            },
        }
    }
    transcript
}

/// The relay standing in for every CLI, written once, with the runtimes pointed at it.
fn relay() -> &'static Path {
    static RELAY: OnceLock<PathBuf> = OnceLock::new();
    RELAY.get_or_init(|| {
        let script = "#!/bin/sh\n\
            # Stands in for an agent CLI in bosun's transcript tests (tests/transcripts.rs).\n\
            d=\"$BOSUN_REPLAY\"\n\
            for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$d/argv\"\n\
            cat \"$d/stdout\" &\n\
            cat \"$d/stderr\" >&2 &\n\
            exec cat > \"$d/stdin\" 2>/dev/null\n";
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join("transcript-relay.sh");
        // Written aside and renamed: the path is never open for writing when it runs.
        let tmp = dir.join(format!("transcript-relay.{}.tmp", std::process::id()));
        std::fs::write(&tmp, script).unwrap();
        std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        for var in ["BOSUN_CLAUDE_PATH", "BOSUN_CODEX_PATH", "BOSUN_GEMINI_PATH"] {
            // SAFETY: every test calls `relay()` before it starts anything, and the
            // OnceLock holds the others back until this returns: no thread reads the
            // environment meanwhile.
            unsafe { std::env::set_var(var, &path) };
        }
        path
    })
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Lines sent here are written to the FIFO (opened once the relay opens its end);
/// dropping the sender closes it.
fn fifo_writer(path: PathBuf) -> std::sync::mpsc::Sender<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) else { return };
        for line in rx {
            if f.write_all(line.as_bytes()).and_then(|_| f.write_all(b"\n")).is_err() {
                return;
            }
        }
    });
    tx
}

/// The FIFO's lines; closed at its EOF (the relay's stdin was closed).
fn fifo_reader(path: PathBuf) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let Ok(f) = std::fs::File::open(&path) else { return };
        for line in BufReader::new(f).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A recorded line of bosun's, made comparable: bosun's version is today's.
fn expected_sent(mut v: Value) -> Value {
    if v["params"]["clientInfo"]["version"].is_string() {
        v["params"]["clientInfo"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    }
    v
}

/// Plays the CLI's side of the transcript; an error says where the driver strayed.
async fn play(steps: Vec<Step>, dir: PathBuf, hold: Option<String>, mut commanded: watch::Receiver<usize>) -> Result<(), String> {
    let stdout = fifo_writer(dir.join("stdout"));
    let stderr = fifo_writer(dir.join("stderr"));
    let mut stdin = fifo_reader(dir.join("stdin"));
    for (n, step) in steps.into_iter().enumerate() {
        match step {
            Step::Stdout(line) => {
                if hold.as_ref().is_some_and(|h| line.contains(h.as_str())) && *commanded.borrow() == 0 {
                    let given = tokio::time::timeout(STEP, commanded.wait_for(|n| *n > 0)).await;
                    given
                        .map_err(|_| format!("step {n}: held for a command that never came"))?
                        .map_err(|_| format!("step {n}: the test is gone"))?;
                }
                stdout.send(line).map_err(|_| format!("step {n}: the relay is gone"))?
            }
            Step::Stderr(line) => stderr.send(line).map_err(|_| format!("step {n}: the relay is gone"))?,
            Step::Sent(want) => {
                let got = tokio::time::timeout(STEP, stdin.recv()).await;
                let line = match got {
                    Err(_) => return Err(format!("step {n}: bosun wrote nothing, expected {want}")),
                    Ok(None) => return Err(format!("step {n}: bosun closed stdin, expected {want}")),
                    Ok(Some(line)) => line,
                };
                let got: Value = serde_json::from_str(&line).map_err(|e| format!("step {n}: bosun wrote non-JSON ({e}): {line}"))?;
                let want = expected_sent(want);
                if got != want {
                    return Err(format!("step {n}: bosun wrote\n  {got}\nexpected\n  {want}"));
                }
            }
            Step::Closed => match tokio::time::timeout(STEP, stdin.recv()).await {
                Err(_) => return Err(format!("step {n}: bosun did not close stdin")),
                Ok(Some(line)) => return Err(format!("step {n}: bosun wrote {line}, expected it to close stdin")),
                Ok(None) => {}
            },
        }
    }
    Ok(())
}

/// What the daemon knew when it started the recorded run.
struct Run<'a> {
    task: &'a str,
    /// The session to continue (`bosun reply`).
    resume: Option<&'a str>,
    /// Cost already counted for that session.
    prior_cost: f64,
    /// The first stdout line containing this is held back until `react` has given a
    /// command: one that puts nothing on the wire at once (a `say` ACP queues) reaches
    /// the driver where it did in the recording.
    hold: Option<&'a str>,
}

/// A task's first run.
const FIRST: Run<'static> = Run { task: TASK, resume: None, prior_cost: 0.0, hold: None };

/// The reply the resumed transcripts continue with.
const REPLY: &str = "also cover the logout path";

struct Replay {
    /// Events of stdout lines (and of the driver itself), in order.
    events: Vec<EventKind>,
    /// Events of stderr lines, in order (their place among stdout's is not kept).
    stderr: Vec<EventKind>,
    failure: Option<String>,
}

/// Replays transcript `name` through the runtime of `profile` for `run`, answering each
/// event with `react`'s command, if any, as the daemon would.
async fn replay(
    name: &str,
    profile: AgentProfile,
    workdir: &Path,
    run: Run<'_>,
    mut react: impl FnMut(&EventKind) -> Option<AgentCommand>,
) -> Replay {
    let relay = relay();
    let transcript = load(name, workdir);
    let pipes = tempfile::tempdir().unwrap();
    for fifo in ["stdout", "stderr", "stdin"] {
        mkfifo(&pipes.path().join(fifo));
    }
    let spec = SpawnSpec {
        task_id: 1,
        run_id: 1,
        workdir: workdir.to_path_buf(),
        prompt: format!("{INSTRUCTIONS}\n\n{}", run.task),
        instructions: INSTRUCTIONS.into(),
        task: run.task.into(),
        prior_cost: run.prior_cost,
        token: "transcript-test".into(),
        pass_env: Vec::new(),
        env: vec![("BOSUN_REPLAY".into(), pipes.path().to_string_lossy().into_owned())],
        resume: run.resume.map(str::to_string),
        holder: None,
    };
    let mut agent = runtime::spawn(&profile, &spec).unwrap_or_else(|e| panic!("spawning the relay at {}: {e}", relay.display()));
    let (commanded_tx, commanded) = watch::channel(0);
    let player = tokio::spawn(play(transcript.steps, pipes.path().to_path_buf(), run.hold.map(str::to_string), commanded));
    let (mut events, mut stderr) = (Vec::new(), Vec::new());
    loop {
        let output = tokio::time::timeout(3 * STEP, agent.output.recv())
            .await
            .unwrap_or_else(|_| panic!("{name}: the driver went quiet; so far: {events:#?}"));
        let Some(output) = output else { break };
        for event in output.events {
            if let Some(command) = react(&event) {
                agent.commands.send(command).unwrap();
                commanded_tx.send_modify(|n| *n += 1);
            }
            match output.stream {
                OutputStream::Stdout => events.push(event),
                OutputStream::Stderr => stderr.push(event),
            }
        }
    }
    if let Err(e) = player.await.unwrap() {
        panic!("{name}: {e}\nevents so far: {events:#?}");
    }
    tokio::time::timeout(STEP, agent.group.wait()).await.expect("the relay exits");
    let argv = std::fs::read(pipes.path().join("argv")).unwrap();
    let argv: Vec<String> = argv.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    assert_eq!(argv, transcript.argv, "{name}: the CLI's arguments");
    let failure = agent.failure.lock().unwrap().clone();
    Replay { events, stderr, failure }
}

/// What the transcript's stderr lines must become: each one an `output` event, as is.
fn stderr_of(name: &str, workdir: &Path) -> Vec<EventKind> {
    let steps = load(name, workdir).steps.into_iter();
    steps
        .filter_map(|s| match s {
            Step::Stderr(line) => Some(EventKind::Output { stream: OutputStream::Stderr, line }),
            _ => None,
        })
        .collect()
}

fn answer(allow: bool, message: Option<&str>) -> impl FnMut(&EventKind) -> Option<AgentCommand> {
    let message = message.map(str::to_string);
    move |e| match e {
        EventKind::ApprovalRequest { id, .. } => Some(AgentCommand::Answer { id: id.clone(), allow, message: message.clone() }),
        _ => None,
    }
}

fn session(id: &str) -> EventKind {
    EventKind::Session { session_id: id.into() }
}

fn message(text: &str) -> EventKind {
    EventKind::Message { text: text.into(), role: None, from: None }
}

fn usage(input_tokens: u64, output_tokens: u64, cost_usd: Option<f64>) -> EventKind {
    EventKind::Usage { input_tokens, output_tokens, cached_tokens: 0, cost_usd }
}

fn error(message: &str) -> EventKind {
    EventKind::Error { message: message.into() }
}

fn stdout_line(line: &str) -> EventKind {
    EventKind::Output { stream: OutputStream::Stdout, line: line.into() }
}

// ---- Claude Code: stream-json ----

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
