//! The `api` runtime: bosun's own agent on a model API, the `bosun-api-agent` program
//! (next to the `bosun` binary, or `$BOSUN_API_AGENT_PATH`). It is spoken to like an
//! interactive `command` agent: a `prompt` line (the task, with the profile's
//! instructions as `system`), then `message`, `approval` and `interrupt` lines; its
//! stdout lines are normalized events, read as a `command` agent's are (it is trusted
//! no more than one: bosun prices its usage itself). The API key reaches it only
//! through the variable the profile's `key_env` names; its conversations are kept in
//! the run's log directory, under the session id it prints, for `bosun reply`.

use async_trait::async_trait;
use bosun_core::{AgentProfile, ApiRuntime, EventKind, OutputStream};
use serde_json::json;

use crate::driver::{self, AgentCommand, Driver, DriverIo};
use crate::process;
use crate::{AgentError, AgentProcess, SpawnSpec};

pub const PROGRAM: &str = "bosun-api-agent";
pub const PATH_VAR: &str = "BOSUN_API_AGENT_PATH";

/// Where the agent program is: `$BOSUN_API_AGENT_PATH`, else beside this executable
/// (bosun's own directory), else on PATH.
pub fn find() -> Result<String, AgentError> {
    if let Some(path) = std::env::var_os(PATH_VAR).filter(|p| !p.is_empty()) {
        return Ok(path.to_string_lossy().into_owned());
    }
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(PROGRAM))).filter(|p| p.is_file());
    beside.or_else(|| super::which(PROGRAM)).map(|p| p.to_string_lossy().into_owned()).ok_or_else(|| AgentError::NotInstalled {
        runtime: "api".into(),
        program: PROGRAM.into(),
        package: "bosun (it ships beside the bosun binary)".into(),
    })
}

pub fn spawn(api: &ApiRuntime, profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let model =
        profile.model.clone().ok_or_else(|| AgentError::Unsupported(format!("profile `{}` (runtime api) names no model", profile.name)))?;
    let state_dir = match &spec.holder {
        Some(h) => h.spool.parent().map(|d| d.to_path_buf()).unwrap_or_default(),
        None => std::env::temp_dir().join(format!("bosun-api-agent-{}", spec.task_id)),
    };
    let mut argv = vec![find()?];
    let mut arg = |name: &str, value: String| {
        argv.push(format!("--{name}"));
        argv.push(value);
    };
    arg("provider", api.provider.name().into());
    arg("base-url", api.base_url.clone());
    arg("model", model);
    arg("tools", api.tools.join(","));
    arg("max-turns", api.max_turns.to_string());
    arg("state-dir", state_dir.to_string_lossy().into_owned());
    if let Some(k) = &api.key_env {
        arg("key-env", k.clone());
    }
    if let Some(w) = api.context_window {
        arg("context-window", w.to_string());
    }
    if let Some(session) = &spec.resume {
        arg("resume", session.clone());
    }
    argv.extend(profile.args.iter().cloned());
    let mut spec = spec.clone();
    spec.pass_env.extend(api.key_env.iter().cloned());
    let cmd = process::base_command(&argv, &spec, &[])?;
    let spawned = process::start(cmd, PROGRAM, &spec)?;
    Ok(driver::drive(spawned, ApiDriver { task: spec.task.clone(), system: spec.instructions.clone() }))
}

struct ApiDriver {
    task: String,
    system: String,
}

#[async_trait]
impl Driver for ApiDriver {
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind> {
        io.write_line(&json!({"type": "prompt", "text": self.task, "system": self.system}).to_string()).await;
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
            AgentCommand::Interrupt => json!({"type": "interrupt"}),
            AgentCommand::Say(text) => json!({"type": "message", "text": text}),
            AgentCommand::Answer { id, allow, message } => json!({"type": "approval", "id": id, "allow": allow, "message": message}),
        };
        if io.write_line(&line.to_string()).await {
            return Vec::new();
        }
        vec![EventKind::Error { message: "could not deliver to the agent: its stdin is closed".into() }]
    }
}
