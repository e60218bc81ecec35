//! The loop between an agent process and the daemon, shared by every runtime: raw
//! output lines go through the runtime's (stateful) [`Driver`] to become normalized
//! events, and the daemon's [`AgentCommand`]s (say, interrupt, answer) go through it
//! to the agent in the runtime's own protocol.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bosun_core::{EventKind, OutputStream};
use tokio::sync::mpsc;

use crate::process::{AgentStdin, ProcessGroup, Spawned};

/// Normalized events the driver passes on at most this many lines behind the agent.
const OUTPUT_BUFFER: usize = 1024;

/// What the daemon asks of a running agent.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    /// A message from a human, delivered at once where the runtime allows it.
    Say(String),
    /// Cut the current turn short (the process may stay, as Claude Code's does).
    Interrupt,
    /// The answer to an approval request.
    Answer { id: String, allow: bool, message: Option<String> },
}

/// One line the agent printed (or a driver's own note), with what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOutput {
    pub stream: OutputStream,
    /// The line as printed; None for events the driver made up itself.
    pub raw: Option<String>,
    /// Which of the agent's output lines `raw` is, counting from 0 over the run
    /// (stdout and stderr together, in the order read).
    pub line: Option<u64>,
    /// When the agent printed it, if not just now (Unix ms; a held agent's line read
    /// while no daemon listened).
    pub printed_at: Option<i64>,
    pub events: Vec<EventKind>,
}

/// A running agent as the daemon sees it.
pub struct AgentProcess {
    /// Closed once the agent's output is exhausted.
    pub output: mpsc::Receiver<AgentOutput>,
    pub group: ProcessGroup,
    pub commands: mpsc::UnboundedSender<AgentCommand>,
    /// Set by the driver when the runtime said the run failed though its process may
    /// still exit 0 (Codex's app-server does).
    pub failure: Arc<Mutex<Option<String>>>,
}

/// Writing to the agent: its stdin, and the group for signals.
pub struct DriverIo {
    stdin: Option<AgentStdin>,
    pub group: ProcessGroup,
    failure: Arc<Mutex<Option<String>>>,
    /// Replaying what the agent printed before a re-attach: the agent already got
    /// everything the driver would write, so writes go nowhere.
    muted: bool,
}

impl DriverIo {
    /// Writes one line (a newline is added). False if stdin is closed or broken.
    pub async fn write_line(&mut self, line: &str) -> bool {
        if self.muted {
            return self.stdin.is_some();
        }
        let Some(stdin) = self.stdin.as_mut() else { return false };
        let ok = stdin.write_all(format!("{line}\n").as_bytes()).await;
        if !ok {
            self.stdin = None;
        }
        ok
    }

    /// Hands stdin over (to write a long prompt from a task of its own). None while
    /// replaying: the prompt was written long ago.
    pub fn take_stdin(&mut self) -> Option<AgentStdin> {
        if self.muted {
            return None;
        }
        self.stdin.take()
    }

    /// Closes stdin: the agent sees EOF.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn stdin_open(&self) -> bool {
        self.stdin.is_some()
    }

    /// Records that the run failed, whatever the exit code will be (the first reason wins).
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.failure.lock().unwrap().get_or_insert_with(|| reason.into());
    }
}

/// A runtime's protocol: how its lines read and how commands are written.
#[async_trait]
pub trait Driver: Send + 'static {
    /// Called once before any line is read (send the prompt, the handshake...).
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind>;
    async fn on_line(&mut self, stream: OutputStream, line: &str, io: &mut DriverIo) -> Vec<EventKind>;
    async fn on_command(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind>;
}

/// A line of a runtime that speaks JSON on stdout, parsed; stderr and anything that
/// is not JSON come back as the `output` event that keeps them.
pub fn json_line(stream: OutputStream, line: &str) -> Result<serde_json::Value, Vec<EventKind>> {
    let raw = || vec![EventKind::Output { stream, line: line.to_string() }];
    if stream == OutputStream::Stderr {
        return Err(raw());
    }
    serde_json::from_str(line).map_err(|_| raw())
}

/// Starts the loop for a spawned process under `driver`. A re-attached process's
/// first lines (those already taken in) go through the driver muted: it rebuilds its
/// state from them, and neither writes to the agent nor passes anything on.
pub(crate) fn drive(spawned: Spawned, mut driver: impl Driver) -> AgentProcess {
    let Spawned { mut lines, stdin, group, resumed } = spawned;
    let (out_tx, output) = mpsc::channel(OUTPUT_BUFFER);
    let (commands, mut cmd_rx) = mpsc::unbounded_channel();
    let failure = Arc::new(Mutex::new(None));
    let replay = resumed.unwrap_or(0);
    let mut io = DriverIo { stdin, group: group.clone(), failure: failure.clone(), muted: resumed.is_some() };
    tokio::spawn(async move {
        let events = driver.start(&mut io).await;
        if !io.muted && !send(&out_tx, events).await {
            return;
        }
        let mut commands_open = true;
        let mut index = 0u64;
        loop {
            io.muted = index < replay;
            tokio::select! {
                line = lines.recv() => match line {
                    Some((stream, line, printed_at)) => {
                        let events = driver.on_line(stream, &line, &mut io).await;
                        let here = index;
                        index += 1;
                        let out = AgentOutput { stream, raw: Some(line), line: Some(here), printed_at, events };
                        if here >= replay && out_tx.send(out).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
                cmd = cmd_rx.recv(), if commands_open => match cmd {
                    Some(cmd) => {
                        io.muted = false;
                        let events = driver.on_command(cmd, &mut io).await;
                        if !send(&out_tx, events).await {
                            return;
                        }
                    }
                    None => commands_open = false,
                },
                // The daemon dropped the agent: let go of the group so it is killed.
                _ = out_tx.closed() => return,
            }
        }
    });
    AgentProcess { output, group, commands, failure }
}

/// Events the driver made up itself (no line behind them).
async fn send(tx: &mpsc::Sender<AgentOutput>, events: Vec<EventKind>) -> bool {
    if events.is_empty() {
        return true;
    }
    tx.send(AgentOutput { stream: OutputStream::Stdout, raw: None, line: None, printed_at: None, events }).await.is_ok()
}
