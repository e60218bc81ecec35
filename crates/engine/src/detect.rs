//! Is a runtime's CLI installed, where, and which version: for `/api/agents`, and
//! said once at start-up. Asking a CLI its version takes seconds (Gemini's alone
//! about 8), so each program is asked once and the answer kept by its path and the
//! file's modification time; a program whose file changed (an upgrade) is asked
//! again in the background, its last known answer given meanwhile.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use bosun_api::Installed;
use bosun_core::Runtime;

/// Where a runtime's program is, and what `--version` says.
pub async fn detect(runtime: &Runtime) -> Installed {
    let program = bosun_agents::runtime::program(runtime);
    match bosun_agents::runtime::probe(runtime) {
        Ok(path) => {
            let version = match runtime {
                // Any program: `--version` may mean anything to it.
                Runtime::Command { .. } | Runtime::Acp { .. } | Runtime::Api(_) => None,
                _ => known_version(&path).await,
            };
            Installed { ok: true, program, version, path: Some(path), problem: None }
        }
        Err(e) => Installed { ok: false, program, path: None, version: None, problem: Some(e.to_string()) },
    }
}

/// What a program's `--version` said, and its file's modification time then.
struct Known {
    modified: Option<SystemTime>,
    version: Option<String>,
    /// A background ask for the changed file is under way.
    refreshing: bool,
}

/// Versions by program path, for the whole process: they are facts about this
/// machine's files, not about one engine. A std mutex: never held across an await.
static VERSIONS: LazyLock<Mutex<HashMap<String, Known>>> = LazyLock::new(Mutex::default);

fn modified(path: &str) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The version of the program at `path`: asked the first time, then from memory
/// while its file is unchanged; a changed file is asked again in the background.
async fn known_version(path: &str) -> Option<String> {
    let now = modified(path);
    {
        let mut versions = VERSIONS.lock().expect("versions lock");
        if let Some(known) = versions.get_mut(path) {
            if known.modified != now && !known.refreshing {
                known.refreshing = true;
                let path = path.to_string();
                tokio::spawn(async move {
                    let version = version(&path).await;
                    VERSIONS.lock().expect("versions lock").insert(path, Known { modified: now, version, refreshing: false });
                });
            }
            return known.version.clone();
        }
    }
    let version = version(path).await;
    VERSIONS.lock().expect("versions lock").insert(path.to_string(), Known { modified: now, version: version.clone(), refreshing: false });
    version
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
