//! The relay that plays a recorded CLI's side of a transcript against a real driver,
//! and the events the tests expect (see `transcripts.rs`).

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use bosun_agents::{AgentCommand, SpawnSpec, runtime};
use bosun_core::{AgentProfile, EventKind, OutputStream};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// The workspace the transcripts were recorded in; replaced by each test's own.
pub const RECORDED_WORKDIR: &str = "/tmp/bosun-transcript/work";
pub const TASK: &str = "Add a greeting";
pub const INSTRUCTIONS: &str = "You are careful. Keep answers short.";
/// The longest a step of the dialogue may take (no step waits on anything slow).
pub const STEP: Duration = Duration::from_secs(10);

/// One line of a transcript.
#[derive(Debug)]
pub enum Step {
    /// A line the CLI printed on stdout (verbatim).
    Stdout(String),
    /// `{"#stderr": "..."}`: a line it printed on stderr.
    Stderr(String),
    /// `{"#sent": {...}}`: a line bosun wrote to the CLI's stdin.
    Sent(Value),
    /// `{"#closed": "stdin"}`: bosun closed the CLI's stdin.
    Closed,
}

pub struct Transcript {
    /// `{"#argv": [...]}`: the CLI's arguments (after the program).
    pub argv: Vec<String>,
    pub steps: Vec<Step>,
}

pub fn load(name: &str, workdir: &Path) -> Transcript {
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
pub fn relay() -> &'static Path {
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

pub fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Lines sent here are written to the FIFO (opened once the relay opens its end);
/// dropping the sender closes it.
pub fn fifo_writer(path: PathBuf) -> std::sync::mpsc::Sender<String> {
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
pub fn fifo_reader(path: PathBuf) -> mpsc::UnboundedReceiver<String> {
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
pub fn expected_sent(mut v: Value) -> Value {
    if v["params"]["clientInfo"]["version"].is_string() {
        v["params"]["clientInfo"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    }
    v
}

/// Plays the CLI's side of the transcript; an error says where the driver strayed.
pub async fn play(steps: Vec<Step>, dir: PathBuf, hold: Option<String>, mut commanded: watch::Receiver<usize>) -> Result<(), String> {
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
pub struct Run<'a> {
    pub task: &'a str,
    /// The session to continue (`bosun reply`).
    pub resume: Option<&'a str>,
    /// Cost already counted for that session.
    pub prior_cost: f64,
    /// The first stdout line containing this is held back until `react` has given a
    /// command: one that puts nothing on the wire at once (a `say` ACP queues) reaches
    /// the driver where it did in the recording.
    pub hold: Option<&'a str>,
}

/// A task's first run.
pub const FIRST: Run<'static> = Run { task: TASK, resume: None, prior_cost: 0.0, hold: None };

/// The reply the resumed transcripts continue with.
pub const REPLY: &str = "also cover the logout path";

pub struct Replay {
    /// Events of stdout lines (and of the driver itself), in order.
    pub events: Vec<EventKind>,
    /// Events of stderr lines, in order (their place among stdout's is not kept).
    pub stderr: Vec<EventKind>,
    pub failure: Option<String>,
}

/// Replays transcript `name` through the runtime of `profile` for `run`, answering each
/// event with `react`'s command, if any, as the daemon would.
pub async fn replay(
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
pub fn stderr_of(name: &str, workdir: &Path) -> Vec<EventKind> {
    let steps = load(name, workdir).steps.into_iter();
    steps
        .filter_map(|s| match s {
            Step::Stderr(line) => Some(EventKind::Output { stream: OutputStream::Stderr, line }),
            _ => None,
        })
        .collect()
}

pub fn answer(allow: bool, message: Option<&str>) -> impl FnMut(&EventKind) -> Option<AgentCommand> {
    let message = message.map(str::to_string);
    move |e| match e {
        EventKind::ApprovalRequest { id, .. } => Some(AgentCommand::Answer { id: id.clone(), allow, message: message.clone() }),
        _ => None,
    }
}

pub fn session(id: &str) -> EventKind {
    EventKind::Session { session_id: id.into() }
}

pub fn message(text: &str) -> EventKind {
    EventKind::Message { text: text.into(), role: None, from: None }
}

pub fn usage(input_tokens: u64, output_tokens: u64, cost_usd: Option<f64>) -> EventKind {
    EventKind::Usage { input_tokens, output_tokens, cached_tokens: 0, cost_usd }
}

pub fn error(message: &str) -> EventKind {
    EventKind::Error { message: message.into() }
}

pub fn stdout_line(line: &str) -> EventKind {
    EventKind::Output { stream: OutputStream::Stdout, line: line.into() }
}

// ---- Claude Code: stream-json ----
