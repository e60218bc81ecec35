//! One agent process as a handle: its process group, its output lines, its exit —
//! whether it is this process's child or a holder's (see [`crate::held`]).

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bosun_core::OutputStream;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, watch};

use crate::{AgentError, SpawnSpec, env};

/// Longest line kept; the rest of a longer line is dropped (and the line marked).
const MAX_LINE: usize = 1 << 20;
/// Lines buffered between the readers and the consumer. When full, the readers stop
/// reading and the agent blocks on its next write: back-pressure, never loss.
const OUTPUT_BUFFER: usize = 1024;
/// How often `terminate` checks whether the group is gone (there is no event for a
/// process group emptying; this wait is bounded by the grace period).
const GROUP_POLL: Duration = Duration::from_millis(10);

/// How the leader process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl ExitInfo {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => match Signal::try_from(s) {
                Ok(sig) => format!("killed by {sig}"),
                Err(_) => format!("killed by signal {s}"),
            },
            (None, None) => "ended".into(),
        }
    }
}

/// One line an agent printed: its stream, its text, and when its holder read it
/// (Unix ms; None: just now).
pub(crate) type Line = (OutputStream, String, Option<i64>);

/// A freshly spawned agent process, before its runtime's driver takes it over.
pub(crate) struct Spawned {
    /// Raw lines from stdout and stderr; closed once every holder of the pipes is gone.
    pub lines: mpsc::Receiver<Line>,
    pub stdin: Option<AgentStdin>,
    pub group: ProcessGroup,
    /// Re-attached to an agent a previous daemon started: how many of the lines
    /// that come first were already taken in (replayed to the driver, not passed on).
    pub resumed: Option<u64>,
}

/// Where what the driver writes for the agent goes: its stdin pipe, or its holder.
pub enum AgentStdin {
    Pipe(ChildStdin),
    Held(mpsc::UnboundedSender<crate::holder::Request>),
}

impl AgentStdin {
    /// Writes all of `bytes`. False once the agent's stdin is gone.
    pub async fn write_all(&mut self, bytes: &[u8]) -> bool {
        match self {
            AgentStdin::Pipe(stdin) => stdin.write_all(bytes).await.is_ok() && stdin.flush().await.is_ok(),
            AgentStdin::Held(tx) => tx.send(crate::holder::Request::Stdin { data: String::from_utf8_lossy(bytes).into_owned() }).is_ok(),
        }
    }
}

/// A handle on the agent's process group. Clones share it; when the last clone is
/// dropped, whatever is left of the group is killed.
#[derive(Clone)]
pub struct ProcessGroup {
    inner: Arc<GroupInner>,
}

struct GroupInner {
    pid: u32,
    exit: watch::Receiver<Option<ExitInfo>>,
    /// Set once the group is known to be empty, so drop does not signal a recycled id,
    /// or once the daemon let go of it ([`ProcessGroup::detach`]).
    gone: Arc<AtomicBool>,
}

/// The command every runtime starts from: cwd, the environment [`env::build`] makes
/// (with `runtime_env`, the runtime's own variables) and bosun's variables of the run
/// last, its own process group.
pub(crate) fn base_command(argv: &[String], spec: &SpawnSpec, runtime_env: &[&str]) -> Result<Command, AgentError> {
    if !spec.workdir.is_dir() {
        return Err(AgentError::NoWorkdir(spec.workdir.clone()));
    }
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(&spec.workdir)
        .env_clear()
        .envs(env::build(std::env::vars_os(), runtime_env, &spec.pass_env, &spec.env))
        // The run's facts: no profile overrides them (sweep relies on the token).
        .env("BOSUN_TASK_ID", spec.task_id.to_string())
        .env("BOSUN_RUN_ID", spec.run_id.to_string())
        .env("BOSUN_WORKTREE", &spec.workdir)
        .env("BOSUN_RUN_TOKEN", &spec.token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    Ok(cmd)
}

/// Starts the agent `cmd` describes the way `spec` asks: as a child of this process,
/// under a new holder, or by re-attaching to the holder a previous daemon started.
pub(crate) fn start(cmd: Command, program: &str, spec: &SpawnSpec) -> Result<Spawned, AgentError> {
    match &spec.holder {
        None => spawn(cmd, program),
        Some(holder) => match holder.attach {
            None => crate::held::spawn(cmd.as_std(), program, holder),
            Some(seen) => crate::held::attach(holder, seen),
        },
    }
}

/// Spawns `cmd` and starts reading its output lines.
pub(crate) fn spawn(mut cmd: Command, program: &str) -> Result<Spawned, AgentError> {
    let mut child = cmd.spawn().map_err(|source| AgentError::Spawn { program: program.to_string(), source })?;
    let pid = child.id().expect("a just-spawned child has a pid");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let stdin = child.stdin.take();
    let exit = async move {
        match child.wait().await {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                ExitInfo { code: status.code(), signal: status.signal() }
            }
            Err(e) => {
                tracing::warn!(pid, "waiting for agent failed: {e}");
                ExitInfo { code: None, signal: None }
            }
        }
    };
    Ok(supervise(pid, stdin, stdout, stderr, exit))
}

/// Takes over a child [`crate::clone_into::spawn`] started: reads its lines and waits
/// for its exit on its pidfd (it is no `tokio::process` child).
pub(crate) fn adopt(child: crate::clone_into::Child) -> std::io::Result<Spawned> {
    let crate::clone_into::Child { pid, pidfd, stdin, stdout, stderr } = child;
    let group = Pid::from_raw(pid as i32);
    let taken = (|| {
        Ok::<_, std::io::Error>((
            ChildStdin::from_std(std::process::ChildStdin::from(stdin))?,
            tokio::process::ChildStdout::from_std(std::process::ChildStdout::from(stdout))?,
            tokio::process::ChildStderr::from_std(std::process::ChildStderr::from(stderr))?,
            // SAFETY: the AsyncFd owns the OwnedFd, which stays open on the same
            // descriptor until the AsyncFd is dropped.
            unsafe { tokio::io::unix::AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }?,
        ))
    })();
    let (stdin, stdout, stderr, pidfd) = match taken {
        Ok(taken) => taken,
        Err(e) => {
            // Nobody could watch it: it must not run unwatched.
            let _ = killpg(group, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(group, None);
            return Err(e);
        }
    };
    let exit = async move {
        use nix::sys::wait::{WaitStatus, waitpid};
        // A pidfd becomes readable once its process has exited; then reaping it does
        // not block. (Should the reactor fail, a blocking thread waits instead.)
        let status = match pidfd.readable().await {
            Ok(_) => waitpid(group, None),
            Err(_) => tokio::task::spawn_blocking(move || waitpid(group, None)).await.unwrap_or(Err(Errno::ECHILD)),
        };
        match status {
            Ok(WaitStatus::Exited(_, code)) => ExitInfo { code: Some(code), signal: None },
            Ok(WaitStatus::Signaled(_, sig, _)) => ExitInfo { code: None, signal: Some(sig as i32) },
            other => {
                tracing::warn!(pid, "waiting for agent failed: {other:?}");
                ExitInfo { code: None, signal: None }
            }
        }
    };
    Ok(supervise(pid, Some(stdin), stdout, stderr, exit))
}

/// Reads the output lines of the process `pid` and tells its exit once `exit` resolves.
fn supervise<O, E>(
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: O,
    stderr: E,
    exit: impl std::future::Future<Output = ExitInfo> + Send + 'static,
) -> Spawned
where
    O: AsyncRead + Unpin + Send + 'static,
    E: AsyncRead + Unpin + Send + 'static,
{
    let (tx, lines) = mpsc::channel(OUTPUT_BUFFER);
    tokio::spawn(read_lines(stdout, OutputStream::Stdout, tx.clone()));
    tokio::spawn(read_lines(stderr, OutputStream::Stderr, tx));
    let (exit_tx, exit_rx) = watch::channel(None);
    tokio::spawn(async move {
        let _ = exit_tx.send(Some(exit.await));
    });
    Spawned { lines, stdin: stdin.map(AgentStdin::Pipe), group: ProcessGroup::new(pid, exit_rx, false), resumed: None }
}

impl ProcessGroup {
    /// The group led by `pid`, whose leader's exit `exit` will tell. `gone`: it is
    /// already known to be empty (never signal it).
    pub(crate) fn new(pid: u32, exit: watch::Receiver<Option<ExitInfo>>, gone: bool) -> ProcessGroup {
        ProcessGroup { inner: Arc::new(GroupInner { pid, exit, gone: Arc::new(AtomicBool::new(gone)) }) }
    }

    /// True once the group is gone or let go of (shared, for a holder's connection).
    pub(crate) fn let_go(&self) -> Arc<AtomicBool> {
        self.inner.gone.clone()
    }

    /// Lets go of the group without ending it: the daemon leaves, the agent stays
    /// with its holder.
    pub fn detach(&self) {
        self.inner.gone.store(true, Ordering::Relaxed);
    }

    /// The leader's pid, which is also the process group id.
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Waits for the leader to exit.
    pub async fn wait(&self) -> ExitInfo {
        let mut rx = self.inner.exit.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.expect("waited for Some"),
            Err(_) => ExitInfo { code: None, signal: None },
        }
    }

    pub fn exit_info(&self) -> Option<ExitInfo> {
        *self.inner.exit.borrow()
    }

    pub fn signal(&self, sig: Signal) {
        if !self.inner.gone.load(Ordering::Relaxed) {
            self.inner.signal(sig)
        }
    }

    fn alive(&self) -> bool {
        !self.inner.gone.load(Ordering::Relaxed) && killpg(Pid::from_raw(self.inner.pid as i32), None).is_ok()
    }

    /// Ends the whole group: SIGTERM, then SIGKILL for whatever is still there after
    /// `grace`. Returns once the leader has exited and the group is gone.
    pub async fn terminate(&self, grace: Duration) -> ExitInfo {
        self.signal(Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        let _ = tokio::time::timeout_at(deadline, self.wait()).await;
        self.reap_until(deadline).await;
        self.wait().await
    }

    /// After the leader exited on its own: whatever it left behind in its group gets
    /// SIGTERM, then SIGKILL after `grace`. No orphans.
    pub async fn reap(&self, grace: Duration) {
        if self.alive() {
            self.signal(Signal::SIGTERM);
        }
        self.reap_until(tokio::time::Instant::now() + grace).await;
    }

    async fn reap_until(&self, deadline: tokio::time::Instant) {
        while self.alive() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(GROUP_POLL).await;
        }
        if self.alive() {
            self.signal(Signal::SIGKILL);
            let _ = tokio::time::timeout(Duration::from_secs(5), self.wait()).await;
            // SIGKILL cannot be ignored; members vanish as soon as it is delivered.
            let until = tokio::time::Instant::now() + Duration::from_secs(2);
            while self.alive() && tokio::time::Instant::now() < until {
                tokio::time::sleep(GROUP_POLL).await;
            }
        }
        if !self.alive() {
            self.inner.gone.store(true, Ordering::Relaxed);
        }
    }
}

impl GroupInner {
    fn signal(&self, sig: Signal) {
        match killpg(Pid::from_raw(self.pid as i32), sig) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => tracing::warn!(pid = self.pid, "signalling the process group failed: {e}"),
        }
    }
}

impl Drop for GroupInner {
    fn drop(&mut self) {
        if !self.gone.load(Ordering::Relaxed) {
            self.signal(Signal::SIGKILL);
        }
    }
}

/// Reads `r` line by line into `tx` until EOF or until the consumer is gone.
pub(crate) async fn read_lines<R: AsyncRead + Unpin>(r: R, stream: OutputStream, tx: mpsc::Sender<Line>) {
    let mut reader = BufReader::with_capacity(64 * 1024, r);
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        match read_line_capped(&mut reader, &mut buf).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("reading agent {stream:?} failed: {e}");
                break;
            }
        }
        if tx.send((stream, String::from_utf8_lossy(&buf).into_owned(), None)).await.is_err() {
            break;
        }
    }
}

/// Like `read_until(b'\n')`, but keeps at most [`MAX_LINE`] bytes of a line. Returns
/// the number of bytes consumed (0 at EOF); the line excludes its `\n` / `\r\n`.
async fn read_line_capped<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    let mut truncated = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        if chunk.len() > room {
            truncated = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len() + usize::from(found);
        reader.consume(used);
        consumed += used;
        if found {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if truncated {
        buf.extend_from_slice(" [line truncated by bosun]".as_bytes());
    }
    Ok(consumed)
}
