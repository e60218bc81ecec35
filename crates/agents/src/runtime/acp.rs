//! The `acp` runtime (any Agent Client Protocol agent) and `gemini` (Gemini CLI's ACP mode).

use bosun_core::AgentProfile;

use crate::{AgentError, AgentProcess, SpawnSpec};

pub const GEMINI: &str = "gemini";
pub const GEMINI_PACKAGE: &str = "@google/gemini-cli";

pub fn spawn_gemini(_profile: &AgentProfile, _spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let _program = super::find_program("BOSUN_GEMINI_PATH", GEMINI, "gemini", GEMINI_PACKAGE)?;
    Err(AgentError::Unsupported("the gemini runtime is not implemented yet".into()))
}

pub fn spawn(_command: &[String], _profile: &AgentProfile, _spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    Err(AgentError::Unsupported("the acp runtime is not implemented yet".into()))
}
