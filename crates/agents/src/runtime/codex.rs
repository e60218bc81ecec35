//! The `codex` runtime: Codex driven through `codex app-server` (JSON-RPC over stdio).

use bosun_core::AgentProfile;

use crate::{AgentError, AgentProcess, SpawnSpec};

pub const PROGRAM: &str = "codex";
pub const PACKAGE: &str = "@openai/codex";

pub fn spawn(_profile: &AgentProfile, _spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let _program = super::find_program("BOSUN_CODEX_PATH", PROGRAM, "codex", PACKAGE)?;
    Err(AgentError::Unsupported("the codex runtime is not implemented yet".into()))
}
