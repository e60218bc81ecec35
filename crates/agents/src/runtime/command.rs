//! The `command` runtime: any program. The prompt goes to its stdin and into
//! `BOSUN_PROMPT`; each stdout line that is a normalized event JSON object of a kind an
//! agent may produce is that event (an `approval`, a `status` or a message claiming a
//! human's `role`/`from` is not: bosun's and humans' words are theirs alone, see
//! `EventKind::from_agent_line`), any other line is `output`. Its environment has
//! nothing of the daemon's beyond the base allow-list and `pass_env:` (see
//! [`crate::env`]). Without `interactive`, stdin is closed after the prompt. With it,
//! stdin stays open and carries JSON lines: first
//! `{"type":"prompt","text":...}`, then `{"type":"message","text":...}` for each
//! `bosun say` and `{"type":"approval","id":...,"allow":...,"message":...}` answering
//! an `approval_request` the agent printed.

use async_trait::async_trait;
use bosun_core::{EventKind, OutputStream};
use serde_json::json;

use crate::driver::{self, AgentCommand, Driver, DriverIo};
use crate::process;
use crate::{AgentError, AgentProcess, SpawnSpec};

pub fn spawn(argv: &[String], interactive: bool, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let mut cmd = process::base_command(argv, spec, &[])?;
    cmd.env("BOSUN_PROMPT", &spec.prompt);
    let spawned = process::start(cmd, &argv[0], spec)?;
    Ok(driver::drive(spawned, CommandDriver { prompt: spec.prompt.clone(), interactive }))
}

struct CommandDriver {
    prompt: String,
    interactive: bool,
}

#[async_trait]
impl Driver for CommandDriver {
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind> {
        if self.interactive {
            io.write_line(&json!({"type": "prompt", "text": self.prompt}).to_string()).await;
        } else {
            // In its own task: an agent that never reads stdin must not stall the
            // driver once the prompt outgrows the pipe's buffer.
            if let Some(mut stdin) = io.take_stdin() {
                let prompt = std::mem::take(&mut self.prompt);
                tokio::spawn(async move {
                    stdin.write_all(prompt.as_bytes()).await;
                });
            }
        }
        Vec::new()
    }

    async fn on_line(&mut self, stream: OutputStream, line: &str, _io: &mut DriverIo) -> Vec<EventKind> {
        vec![match stream {
            OutputStream::Stdout => EventKind::from_agent_line(line),
            OutputStream::Stderr => EventKind::Output { stream, line: line.to_string() },
        }]
    }

    async fn on_command(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind> {
        let line = match &command {
            AgentCommand::Interrupt => {
                io.group.signal(nix::sys::signal::Signal::SIGINT);
                return Vec::new();
            }
            AgentCommand::Say(text) => json!({"type": "message", "text": text}),
            AgentCommand::Answer { id, allow, message } => json!({"type": "approval", "id": id, "allow": allow, "message": message}),
        };
        if self.interactive && io.write_line(&line.to_string()).await {
            return Vec::new();
        }
        let why = if self.interactive { "its stdin is closed" } else { "its profile is not `interactive: true`" };
        vec![EventKind::Error { message: format!("could not deliver to the agent: {why}") }]
    }
}
