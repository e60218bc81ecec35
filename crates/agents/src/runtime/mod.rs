//! The runtimes, one file each. [`spawn`] picks the one a profile names.

pub mod command;

use bosun_core::{AgentProfile, Runtime};

use crate::{AgentError, AgentProcess, SpawnSpec};

/// Starts the agent a profile describes.
pub fn spawn(profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    match &profile.runtime {
        Runtime::Command { command } => command::spawn(command, spec),
    }
}
