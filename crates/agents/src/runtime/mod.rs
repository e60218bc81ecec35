//! The runtimes, one file each. [`spawn`] picks the one a profile names.

pub mod acp;
pub mod api;
pub mod claude;
pub mod codex;
pub mod command;

use bosun_core::{AgentProfile, Runtime};

use crate::{AgentError, AgentProcess, SpawnSpec};

/// Starts the agent a profile describes.
pub fn spawn(profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    match &profile.runtime {
        Runtime::Command { command, interactive } => command::spawn(command, *interactive, spec),
        Runtime::ClaudeCode => claude::spawn(profile, spec),
        Runtime::Codex => codex::spawn(profile, spec),
        Runtime::Gemini => acp::spawn_gemini(profile, spec),
        Runtime::Acp { command } => acp::spawn(command, profile, spec),
        Runtime::Api(api) => api::spawn(api, profile, spec),
    }
}

/// The program a runtime runs, as a user would name it (`claude`, or a command's own).
pub fn program(runtime: &Runtime) -> String {
    match runtime {
        Runtime::Command { command, .. } | Runtime::Acp { command } => command[0].clone(),
        Runtime::ClaudeCode => claude::PROGRAM.into(),
        Runtime::Codex => codex::PROGRAM.into(),
        Runtime::Gemini => acp::GEMINI.into(),
        Runtime::Api(_) => api::PROGRAM.into(),
    }
}

/// Where the runtime's program is: the same lookup [`spawn`] does, so what
/// `bosun agents` reports is what a run will start.
pub fn probe(runtime: &Runtime) -> Result<String, AgentError> {
    match runtime {
        Runtime::Command { command, .. } | Runtime::Acp { command } => {
            let program = &command[0];
            let found = if program.contains('/') { Some(std::path::PathBuf::from(program)) } else { which(program) };
            found.map(|p| p.display().to_string()).ok_or_else(|| AgentError::NotFound(program.clone()))
        }
        Runtime::ClaudeCode => find_program("BOSUN_CLAUDE_PATH", claude::PROGRAM, "claude-code", claude::PACKAGE),
        Runtime::Codex => find_program("BOSUN_CODEX_PATH", codex::PROGRAM, "codex", codex::PACKAGE),
        Runtime::Gemini => find_program("BOSUN_GEMINI_PATH", acp::GEMINI, "gemini", acp::GEMINI_PACKAGE),
        Runtime::Api(_) => api::find(),
    }
}

/// The program for a runtime: `$<env_var>` if set, else `program` from PATH. A clear
/// error names the runtime and the package to install.
pub fn find_program(env_var: &str, program: &str, runtime: &str, package: &str) -> Result<String, AgentError> {
    if let Some(path) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Ok(path.to_string_lossy().into_owned());
    }
    which(program).map(|p| p.to_string_lossy().into_owned()).ok_or_else(|| AgentError::NotInstalled {
        runtime: runtime.into(),
        program: program.into(),
        package: package.into(),
    })
}

/// The first executable `name` on PATH.
pub fn which(name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Tool output kept in a `tool_result` event, in bytes.
pub const MAX_OUTPUT: usize = 4096;

/// `s` cut to at most [`MAX_OUTPUT`] bytes (on a character boundary), marked when cut.
pub fn clip(mut s: String) -> String {
    if s.len() > MAX_OUTPUT {
        let cut = (0..=MAX_OUTPUT).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    s
}
