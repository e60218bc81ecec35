//! `GET /api/agents`: the agent profiles bosun finds (the user's, and a repo's with
//! `?repo=`), their runtime, and whether that runtime's CLI is installed (and which
//! version), or why a profile file could not be read.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use bosun_core::{AgentProfile, Runtime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use crate::Daemon;
use crate::profiles::Profiles;

/// What `/api/agents` shows instead of an `env:` value.
pub const MASK: &str = "********";

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    /// Also list the profiles of this repo (`<repo>/.bosun/agents`).
    pub repo: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentInfo {
    #[serde(flatten)]
    pub profile: AgentProfile,
    /// The runtime's program, where it was found, and its version.
    pub installed: Installed,
}

#[derive(Serialize, ToSchema)]
pub struct Installed {
    pub ok: bool,
    pub program: String,
    pub path: Option<String>,
    pub version: Option<String>,
    /// Why it is not usable, for a human.
    pub problem: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentsBody {
    pub agents: Vec<AgentInfo>,
    /// Profile files that could not be read, and why.
    pub broken: Vec<BrokenProfile>,
}

#[derive(Serialize, ToSchema)]
pub struct BrokenProfile {
    pub path: String,
    pub error: String,
}

#[utoipa::path(get, path = "/api/agents", params(AgentsQuery), responses((status = 200, body = AgentsBody)))]
pub async fn agents(State(daemon): State<Arc<Daemon>>, q: Result<Query<AgentsQuery>, QueryRejection>) -> Result<Json<AgentsBody>, ApiError> {
    let Query(q) = q?;
    let profiles = Profiles::load(q.repo.as_deref().map(Path::new), &daemon.config.user_agents_dir());
    let mut agents = Vec::new();
    for mut profile in profiles.found {
        // Names only: a profile's `env:` often holds API keys.
        profile.env.values_mut().for_each(|v| *v = MASK.into());
        let installed = detect(&profile.runtime).await;
        agents.push(AgentInfo { profile, installed });
    }
    let broken = profiles.broken.into_iter().map(|(p, e)| BrokenProfile { path: p.display().to_string(), error: e }).collect();
    Ok(Json(AgentsBody { agents, broken }))
}

/// Where a runtime's program is, and what `--version` says.
pub async fn detect(runtime: &Runtime) -> Installed {
    use bosun_agents::runtime::{acp, claude, codex, find_program};
    let found = match runtime {
        Runtime::Command { command, .. } | Runtime::Acp { command } => {
            let program = &command[0];
            let path = if program.contains('/') { Some(std::path::PathBuf::from(program)) } else { bosun_agents::runtime::which(program) };
            return match path {
                Some(p) => Installed { ok: true, program: program.clone(), path: Some(p.display().to_string()), version: None, problem: None },
                None => Installed {
                    ok: false,
                    program: program.clone(),
                    path: None,
                    version: None,
                    problem: Some(format!("`{program}` not found on PATH")),
                },
            };
        }
        Runtime::ClaudeCode => (claude::PROGRAM, find_program("BOSUN_CLAUDE_PATH", claude::PROGRAM, "claude-code", claude::PACKAGE)),
        Runtime::Codex => (codex::PROGRAM, find_program("BOSUN_CODEX_PATH", codex::PROGRAM, "codex", codex::PACKAGE)),
        Runtime::Gemini => (acp::GEMINI, find_program("BOSUN_GEMINI_PATH", acp::GEMINI, "gemini", acp::GEMINI_PACKAGE)),
    };
    match found {
        (program, Ok(path)) => Installed { ok: true, program: program.into(), version: version(&path).await, path: Some(path), problem: None },
        (program, Err(e)) => Installed { ok: false, program: program.into(), path: None, version: None, problem: Some(e.to_string()) },
    }
}

async fn version(path: &str) -> Option<String> {
    let out = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new(path).arg("--version").stdin(std::process::Stdio::null()).kill_on_drop(true).output(),
    )
    .await
    .ok()?
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string()).filter(|l| !l.is_empty())
}
