//! The holder: a small process per run that owns the agent's pipes, so that the
//! agent outlives the daemon (an upgrade, a crash) and a restarted daemon can take it
//! back — like a container runtime's shim.
//!
//! `bosun hold` is started by the daemon with the agent's environment and working
//! directory, and leaves the daemon's session at once (a Ctrl-C or a SIGTERM meant
//! for the daemon does not reach it). It starts the agent as the leader of its own
//! process group and appends every line the agent prints to the run's *spool*, one
//! JSON [`Record`] a line, written straight to the file (no buffer to lose). A daemon
//! connects to the holder's Unix socket and gets [`Record::Hello`], then the whole
//! spool from its start, then each new line as it comes; it sends [`Request`]s for the
//! agent's stdin. While no daemon is connected the spool keeps everything. Once the
//! agent has exited and its group is gone (leftovers get SIGTERM, then SIGKILL after
//! the grace period), the holder appends [`Record::Exit`], sends it, removes its
//! socket and exits: from then on the spool alone tells the whole run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bosun_core::OutputStream;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use crate::process::{self, AgentStdin};
use crate::{AgentError, ExitInfo};

/// How long output may still come once the agent and everything carrying its run's
/// token are gone (what is already in the pipes); then the holder stops reading.
const DRAIN: Duration = Duration::from_secs(2);
/// How long a holder whose agent ended at once waits for its daemon's first visit.
const FIRST_ATTACH: Duration = Duration::from_secs(30);

/// What the holder tells a daemon; every record but `Hello` is also a spool line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// First on every connection: the agent's pid (its process group's id).
    Hello { pid: u32 },
    /// A line the agent printed, and when the holder read it (Unix ms).
    Line {
        stream: OutputStream,
        line: String,
        #[serde(default)]
        at: Option<i64>,
    },
    /// The agent exited and its group is gone: the last record.
    Exit { exit: ExitInfo },
}

/// What a daemon asks of the holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Request {
    /// Bytes for the agent's stdin.
    Stdin { data: String },
    /// Close the agent's stdin (it sees EOF).
    CloseStdin,
}

/// The holder's first (and only) line on its stdout: the agent started, or why not.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    Started { pid: u32 },
    Failed { error: String },
}

/// What `bosun hold` is told.
#[derive(Debug, Clone)]
pub struct HoldArgs {
    pub spool: PathBuf,
    pub socket: PathBuf,
    pub grace: Duration,
    /// The run's own cgroup, to start the agent in and to kill at its end.
    pub cgroup: Option<PathBuf>,
    /// The agent's program and arguments.
    pub argv: Vec<String>,
}

/// The holder process: runs until the agent and its group are gone. Returns the
/// exit status for the holder itself.
pub async fn run(args: HoldArgs) -> i32 {
    // Out of the daemon's session and process group: its signals are not ours.
    let _ = nix::unistd::setsid();
    let (listener, spool, spawned) = match start(&args) {
        Ok(started) => started,
        Err(error) => {
            ready(&Ready::Failed { error });
            return 1;
        }
    };
    let pid = spawned.group.pid();
    ready(&Ready::Started { pid });
    // Nothing more goes to the daemon's pipe, which may be gone any time now.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 on two open descriptors; fd 1 is not used by anything else.
        unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 1) };
    }
    hold(args, listener, spool, spawned).await;
    0
}

fn ready(ready: &Ready) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(ready).expect("ready serializes"));
    let _ = out.flush();
}

fn start(args: &HoldArgs) -> Result<(UnixListener, std::fs::File, process::Spawned), String> {
    let Some(program) = args.argv.first() else { return Err("no agent command given".into()) };
    let spool = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.spool)
        .map_err(|e| format!("cannot open the spool {}: {e}", args.spool.display()))?;
    let _ = std::fs::remove_file(&args.socket);
    let listener = UnixListener::bind(&args.socket).map_err(|e| format!("cannot listen on {}: {e}", args.socket.display()))?;
    // Whoever can connect writes to the agent's stdin: the user alone.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&args.socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", args.socket.display()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(&args.argv[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0);
    let spawned = match args.cgroup.as_deref() {
        Some(dir) => spawn_in_cgroup(cmd, program, &args.argv, dir),
        None => process::spawn(cmd, program),
    }
    .map_err(|e| e.to_string())?;
    Ok((listener, spool, spawned))
}

/// Starts the agent in the run's cgroup `dir`: born there where the kernel allows it,
/// else moving itself in between `fork` and `exec`, else (no cgroup could be made, or
/// the move was refused) outside it, found by its group and token.
fn spawn_in_cgroup(mut cmd: tokio::process::Command, program: &str, argv: &[String], dir: &Path) -> Result<process::Spawned, AgentError> {
    let opened = match crate::cgroup::create(dir) {
        Ok(opened) => opened,
        Err(e) => {
            tracing::warn!("cannot make the run's cgroup {} ({e}); its processes are found by group and token", dir.display());
            return process::spawn(cmd, program);
        }
    };
    let cannot = |source| AgentError::Spawn { program: program.to_string(), source };
    match crate::clone_into::spawn(argv, &opened.dir) {
        Ok(child) => return process::adopt(child).map_err(cannot),
        Err(crate::clone_into::Error::Exec(source)) => return Err(cannot(source)),
        Err(crate::clone_into::Error::Unsupported(e)) => {
            tracing::debug!("cannot start the agent inside its cgroup {} ({e}); it moves itself in", dir.display())
        }
    }
    crate::cgroup::enter_on_exec(cmd.as_std_mut(), opened.procs);
    let spawned = process::spawn(cmd, program)?;
    if !crate::cgroup::contains(dir, spawned.group.pid()) {
        tracing::warn!("the agent did not enter the run's cgroup {}; its processes are found by group and token", dir.display());
    }
    Ok(spawned)
}

async fn hold(args: HoldArgs, listener: UnixListener, mut spool: std::fs::File, spawned: process::Spawned) {
    let process::Spawned { mut lines, stdin, group, .. } = spawned;
    let pid = group.pid();
    let stdin = stdin_writer(stdin);
    let (req_tx, mut requests) = mpsc::unbounded_channel();
    let mut daemon: Option<OwnedWriteHalf> = None;
    let mut attached_once = false;
    let mut exit = None;
    let mut output_open = true;
    let (reaped_tx, mut reaped) = tokio::sync::oneshot::channel::<()>();
    let mut reaped_tx = Some(reaped_tx);
    let mut drain_until: Option<tokio::time::Instant> = None;
    while output_open || exit.is_none() {
        tokio::select! {
            line = lines.recv(), if output_open => match line {
                Some((stream, line, _)) => {
                    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).ok();
                    record(&mut spool, &mut daemon, &Record::Line { stream, line, at }).await
                }
                None => output_open = false,
            },
            info = group.wait(), if exit.is_none() => {
                exit = Some(info);
                // Whatever the agent left running goes too: its group, then its
                // cgroup and anything else carrying the run's token (a `setsid`
                // grandchild that may hold the agent's stdout open forever).
                let (g, grace, done, cgroup) = (group.clone(), args.grace, reaped_tx.take(), args.cgroup.clone());
                tokio::spawn(async move {
                    g.reap(grace).await;
                    if let Some(dir) = cgroup {
                        let _ = tokio::task::spawn_blocking(move || crate::cgroup::kill(&dir, crate::cgroup::EMPTY_WAIT)).await;
                    }
                    if let Ok(token) = std::env::var("BOSUN_RUN_TOKEN") {
                        let _ = tokio::task::spawn_blocking(move || crate::sweep::kill_all(&[token])).await;
                    }
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                });
            }
            _ = &mut reaped, if drain_until.is_none() && output_open => {
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            }
            _ = tokio::time::sleep_until(drain_until.unwrap_or_else(tokio::time::Instant::now)), if drain_until.is_some() && output_open => {
                // Something that does not carry the token still holds the pipes.
                tracing::warn!("the agent's output is still open after it and its processes ended; no longer reading it");
                output_open = false;
            }
            conn = listener.accept() => if let Ok((sock, _)) = conn {
                let (read, mut write) = sock.into_split();
                if replay(&mut write, pid, &args.spool).await {
                    tokio::spawn(read_requests(read, req_tx.clone()));
                    daemon = Some(write);
                    attached_once = true;
                }
            },
            Some(req) = requests.recv() => {
                let _ = stdin.send(req);
            }
        }
    }
    // The exit is told only once the leftovers are gone: the group reaped and the
    // token swept (a daemon runs the cleanup hook, under the same token, after it).
    if drain_until.is_none() {
        let _ = reaped.await;
    }
    group.reap(args.grace).await;
    let exit = exit.unwrap_or(ExitInfo { code: None, signal: None });
    record(&mut spool, &mut daemon, &Record::Exit { exit }).await;
    let _ = spool.sync_all();
    // An agent that ended before the daemon that started it connected: wait for that
    // daemon, which is about to, so that it hears the whole run from us.
    if !attached_once && let Ok(Ok((sock, _))) = tokio::time::timeout(FIRST_ATTACH, listener.accept()).await {
        let (_read, mut write) = sock.into_split();
        replay(&mut write, pid, &args.spool).await;
    }
    let _ = std::fs::remove_file(&args.socket);
}

/// Appends `rec` to the spool, then passes it to the connected daemon, if any.
async fn record(spool: &mut std::fs::File, daemon: &mut Option<OwnedWriteHalf>, rec: &Record) {
    let mut line = serde_json::to_string(rec).expect("records serialize");
    line.push('\n');
    if let Err(e) = spool.write_all(line.as_bytes()) {
        tracing::error!("cannot append to the spool: {e}");
    }
    if let Some(w) = daemon
        && w.write_all(line.as_bytes()).await.is_err()
    {
        *daemon = None;
    }
}

/// A new daemon: the hello, then the spool so far. False if it went away meanwhile.
async fn replay(w: &mut OwnedWriteHalf, pid: u32, spool: &Path) -> bool {
    let mut hello = serde_json::to_string(&Record::Hello { pid }).expect("records serialize");
    hello.push('\n');
    if w.write_all(hello.as_bytes()).await.is_err() {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(spool) else { return true };
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) | Err(_) => return true,
            Ok(n) => {
                if w.write_all(&buf[..n]).await.is_err() {
                    return false;
                }
            }
        }
    }
}

/// Passes a daemon's requests on until it hangs up (a malformed line is skipped).
async fn read_requests(read: OwnedReadHalf, tx: mpsc::UnboundedSender<Request>) {
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                if tx.send(req).is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!("a malformed request from the daemon: {e}"),
        }
    }
}

/// Writes to the agent's stdin from a task of its own, in order, so that an agent
/// that does not read never stalls the holder.
fn stdin_writer(stdin: Option<AgentStdin>) -> mpsc::UnboundedSender<Request> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stdin = stdin;
        while let Some(req) = rx.recv().await {
            match req {
                Request::Stdin { data } => {
                    if let Some(s) = stdin.as_mut()
                        && !s.write_all(data.as_bytes()).await
                    {
                        stdin = None;
                    }
                }
                Request::CloseStdin => stdin = None,
            }
        }
    });
    tx
}
