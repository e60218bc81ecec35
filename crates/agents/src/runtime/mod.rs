//! The runtimes, one file each. [`spawn`] picks the one a profile names.

pub mod acp;
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
    }
}

/// The program for a runtime: `$<env_var>` if set, else `program` from PATH. A clear
/// error names the runtime and the package to install.
pub fn find_program(env_var: &str, program: &str, runtime: &str, package: &str) -> Result<String, AgentError> {
    if let Some(path) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Ok(path.to_string_lossy().into_owned());
    }
    which(program)
        .map(|p| p.to_string_lossy().into_owned())
        .ok_or_else(|| AgentError::NotInstalled { runtime: runtime.into(), program: program.into(), package: package.into() })
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
