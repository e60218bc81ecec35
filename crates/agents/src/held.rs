//! The daemon's side of a [`holder`](crate::holder): starting an agent under a new
//! holder, and re-attaching to one a previous daemon started (or, when the holder has
//! already left, reading what it left in the spool).

use std::io::{BufRead, Read};
use std::os::unix::net::UnixStream;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

use crate::holder::{Ready, Record, Request};
use crate::process::{AgentStdin, Line, ProcessGroup, Spawned};
use crate::{AgentError, ExitInfo, Holder};

/// Lines buffered between the holder's connection and the driver (back-pressure, as
/// for a child's pipes).
const OUTPUT_BUFFER: usize = 1024;
/// How long a holder may take to say hello.
const HELLO: Duration = Duration::from_secs(10);

/// Starts `cmd` (as [`crate::process::base_command`] built it) under a new holder.
pub(crate) fn spawn(cmd: &std::process::Command, program: &str, holder: &Holder) -> Result<Spawned, AgentError> {
    let mut hold = tokio::process::Command::new(&holder.exe);
    hold.arg("hold")
        .arg("--spool")
        .arg(&holder.spool)
        .arg("--socket")
        .arg(&holder.socket)
        .arg("--grace-ms")
        .arg(holder.grace.as_millis().to_string());
    if let Some(dir) = holder.log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Persist, then act: whoever ends the run finds its cgroup by this file.
    if let Some(cgroup) = &holder.cgroup {
        match std::fs::write(&holder.cgroup_file, cgroup.as_os_str().as_encoded_bytes()) {
            Ok(()) => {
                hold.arg("--cgroup").arg(cgroup);
            }
            Err(e) => tracing::warn!("cannot record the run's cgroup in {} ({e}); the run goes without one", holder.cgroup_file.display()),
        }
    }
    hold.arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if let Some(dir) = cmd.get_current_dir() {
        hold.current_dir(dir);
    }
    match std::fs::OpenOptions::new().create(true).append(true).open(&holder.log) {
        Ok(log) => hold.stderr(log),
        Err(_) => hold.stderr(Stdio::null()),
    };
    let mut child = hold.spawn().map_err(|source| AgentError::Spawn { program: holder.exe.display().to_string(), source })?;
    let holder_pid = child.id();
    let stdout = child.stdout.take().expect("stdout is piped").into_owned_fd().map_err(|e| AgentError::Held(e.to_string()))?;
    // The holder is our child until we go: reap it when it ends.
    tokio::spawn(async move { child.wait().await });
    // It answers within milliseconds: it only has to start the agent.
    let mut line = String::new();
    let _ = std::io::BufReader::new(std::fs::File::from(stdout)).read_line(&mut line);
    match serde_json::from_str::<Ready>(&line) {
        Ok(Ready::Started { pid }) => connect(holder, None).inspect_err(|_| {
            // Started, but out of our reach: end it rather than leave it running.
            use nix::sys::signal::{Signal, kill, killpg};
            use nix::unistd::Pid;
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            if let Some(holder_pid) = holder_pid {
                let _ = kill(Pid::from_raw(holder_pid as i32), Signal::SIGKILL);
            }
            holder.end_cgroup();
        }),
        Ok(Ready::Failed { error }) => Err(AgentError::Held(error)),
        Err(_) => Err(AgentError::Held(format!("the holder for `{program}` did not start (see {})", holder.log.display()))),
    }
}

/// Takes back the agent of a holder a previous daemon started; `seen` of its lines
/// are already taken in. When the holder has left, the spool is read instead (it
/// ends with the agent's exit); when neither is there, the agent is lost.
pub(crate) fn attach(holder: &Holder, seen: u64) -> Result<Spawned, AgentError> {
    match connect(holder, Some(seen)) {
        Ok(spawned) => Ok(spawned),
        Err(_) if spool_complete(&holder.spool) => from_spool(holder, seen),
        Err(e) => Err(e),
    }
}

/// Whether a restarted daemon can take the run back: its holder answers, or its
/// spool already ends with the agent's exit.
pub(crate) fn reachable(holder: &Holder) -> bool {
    UnixStream::connect(&holder.socket).is_ok() || spool_complete(&holder.spool)
}

fn connect(holder: &Holder, resumed: Option<u64>) -> Result<Spawned, AgentError> {
    let lost = |e: std::io::Error| AgentError::Held(format!("cannot reach the agent's holder at {}: {e}", holder.socket.display()));
    let mut sock = loop {
        match UnixStream::connect(&holder.socket) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => break other.map_err(lost)?,
        }
    };
    sock.set_read_timeout(Some(HELLO)).map_err(lost)?;
    let pid = match serde_json::from_str(&read_line(&mut sock).map_err(lost)?) {
        Ok(Record::Hello { pid }) => pid,
        _ => return Err(AgentError::Held("the agent's holder did not say hello".into())),
    };
    sock.set_read_timeout(None).map_err(lost)?;
    sock.set_nonblocking(true).map_err(lost)?;
    let sock = tokio::net::UnixStream::from_std(sock).map_err(lost)?;
    let (lines_tx, lines) = mpsc::channel(OUTPUT_BUFFER);
    let (exit_tx, exit) = watch::channel(None);
    let (req_tx, requests) = mpsc::unbounded_channel();
    let group = ProcessGroup::new(pid, exit, false);
    tokio::spawn(converse(sock, lines_tx, exit_tx, requests, group.let_go()));
    Ok(Spawned { lines, stdin: Some(AgentStdin::Held(req_tx)), group, resumed })
}

/// One line from a blocking socket, read a byte at a time so that nothing after it
/// is consumed.
fn read_line(sock: &mut UnixStream) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        match sock.read(&mut byte) {
            Ok(1) if byte[0] != b'\n' => line.push(byte[0]),
            Ok(_) => return Ok(String::from_utf8_lossy(&line).into_owned()),
            // A signal to the daemon (a child exiting) is no reason to give up.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The connection to a holder: its records to the driver's lines and the exit, the
/// driver's requests to it. Ends when the holder hangs up; an exit never told means
/// the holder died (the exit then reads as unknown). When the driver lets go of the
/// agent's stdin, the holder closes it — unless the daemon let go of the whole
/// agent (`let_go`), which keeps running for the next daemon as it is.
async fn converse(
    sock: tokio::net::UnixStream,
    lines: mpsc::Sender<Line>,
    exit: watch::Sender<Option<ExitInfo>>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    let_go: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let (read, mut write) = sock.into_split();
    let mut records = BufReader::new(read).lines();
    let mut requests_open = true;
    loop {
        tokio::select! {
            line = records.next_line() => match line {
                Ok(Some(line)) => {
                    if !pass_on(&line, &lines, &exit).await {
                        return;
                    }
                }
                _ => return,
            },
            req = requests.recv(), if requests_open => {
                let Some(req) = req.or_else(|| {
                    requests_open = false;
                    (!let_go.load(std::sync::atomic::Ordering::Relaxed)).then_some(Request::CloseStdin)
                }) else {
                    continue;
                };
                let mut line = serde_json::to_string(&req).expect("requests serialize");
                line.push('\n');
                if write.write_all(line.as_bytes()).await.is_err() {
                    requests_open = false;
                }
            }
        }
    }
}

/// One record (from the holder or its spool) to where it goes: a line to the
/// driver, the exit to the group. False once the driver is gone.
async fn pass_on(record: &str, lines: &mpsc::Sender<Line>, exit: &watch::Sender<Option<ExitInfo>>) -> bool {
    match serde_json::from_str::<Record>(record) {
        Ok(Record::Line { stream, line, at }) => return lines.send((stream, line, at)).await.is_ok(),
        Ok(Record::Exit { exit: info }) => {
            let _ = exit.send(Some(info));
        }
        Ok(Record::Hello { .. }) => {}
        Err(e) => tracing::warn!("a malformed record from the agent's holder: {e}"),
    }
    true
}

/// Whether the spool ends with the agent's exit.
fn spool_complete(spool: &std::path::Path) -> bool {
    last_record(spool).is_some_and(|r| matches!(r, Record::Exit { .. }))
}

fn last_record(spool: &std::path::Path) -> Option<Record> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(spool).ok()?;
    let len = f.metadata().ok()?.len();
    // An exit record is short; the last 4 KiB hold it whole.
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).ok()?;
    serde_json::from_str(tail.trim_end().rsplit('\n').next()?).ok()
}

/// The run of a holder that has left: its spool, read from the start.
fn from_spool(holder: &Holder, seen: u64) -> Result<Spawned, AgentError> {
    let file = std::fs::File::open(&holder.spool).map_err(|e| AgentError::Held(format!("cannot read the spool: {e}")))?;
    let (lines_tx, lines) = mpsc::channel(OUTPUT_BUFFER);
    let (exit_tx, exit) = watch::channel(None);
    tokio::spawn(async move {
        let mut records = BufReader::new(tokio::fs::File::from_std(file)).lines();
        while let Ok(Some(line)) = records.next_line().await {
            if !pass_on(&line, &lines_tx, &exit_tx).await {
                return;
            }
        }
    });
    // The group is long gone; its id may be someone else's by now: never signal it.
    Ok(Spawned { lines, stdin: None, group: ProcessGroup::new(0, exit, true), resumed: Some(seen) })
}
