//! Is a runtime's CLI installed, where, and which version: for `/api/agents`, and
//! said once at start-up.

use std::time::Duration;

use bosun_api::Installed;
use bosun_core::Runtime;

/// Where a runtime's program is, and what `--version` says.
pub async fn detect(runtime: &Runtime) -> Installed {
    let program = bosun_agents::runtime::program(runtime);
    match bosun_agents::runtime::probe(runtime) {
        Ok(path) => {
            let version = match runtime {
                // Any program: `--version` may mean anything to it.
                Runtime::Command { .. } | Runtime::Acp { .. } => None,
                _ => version(&path).await,
            };
            Installed { ok: true, program, version, path: Some(path), problem: None }
        }
        Err(e) => Installed { ok: false, program, path: None, version: None, problem: Some(e.to_string()) },
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

/// Says at start-up which agent CLIs are there to run (and which are not).
pub(crate) async fn report_runtimes() {
    for runtime in [Runtime::ClaudeCode, Runtime::Codex, Runtime::Gemini] {
        let found = detect(&runtime).await;
        match (found.path, found.problem) {
            (Some(path), _) => {
                tracing::info!(runtime = runtime.name(), %path, version = found.version.as_deref().unwrap_or("?"), "agent CLI found")
            }
            (None, Some(problem)) => tracing::info!(runtime = runtime.name(), "agent CLI missing: {problem}"),
            (None, None) => {}
        }
    }
}
