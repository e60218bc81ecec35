//! Finding agent profiles on disk: `<repo>/.bosun/agents/*.md`, then the user's
//! `<config-dir>/agents/*.md`. A repo's profile wins over a user profile of the same
//! name. Files that fail to parse are remembered, so that a task naming such a
//! profile fails with the parse error rather than "unknown agent". An installed
//! `claude`, `codex` or `gemini` CLI with no profile of its name gets a built-in one.

use std::path::{Path, PathBuf};

use bosun_core::AgentProfile;
use bosun_core::schedule::{self, RouteError};

/// Why no profile could run a task.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("agent profile {} is invalid: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
    #[error(transparent)]
    Route(#[from] RouteError),
}

#[derive(Debug, Default)]
pub struct Profiles {
    pub found: Vec<AgentProfile>,
    /// (file, why it was skipped)
    pub broken: Vec<(PathBuf, String)>,
    pub searched: Vec<PathBuf>,
}

impl Profiles {
    pub fn load(repo: Option<&Path>, user_agents_dir: &Path) -> Profiles {
        let mut profiles = repo.map(Profiles::of_repo).unwrap_or_default();
        profiles.load_dir(user_agents_dir);
        profiles.add_built_ins();
        profiles
    }

    /// A built-in profile for each installed agent CLI that no file names (a file of
    /// that name that failed to parse counts: its error is what a task naming it gets).
    fn add_built_ins(&mut self) {
        for (name, runtime) in bosun_core::profile::BUILTIN {
            let named = self.found.iter().any(|p| p.name == name)
                || self.broken.iter().any(|(path, _)| path.file_stem().is_some_and(|s| s == name));
            if !named && bosun_agents::runtime::probe(&runtime).is_ok() {
                self.found.push(AgentProfile::built_in(name, runtime));
            }
        }
    }

    /// A repo's own profiles (`<repo>/.bosun/agents`), without the user's.
    pub fn of_repo(repo: &Path) -> Profiles {
        let mut profiles = Profiles::default();
        profiles.load_dir(&repo.join(".bosun").join("agents"));
        profiles
    }

    fn load_dir(&mut self, dir: &Path) {
        self.searched.push(dir.to_path_buf());
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut paths: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file()).collect();
        paths.sort();
        for path in paths {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let text = match std::fs::read_to_string(&path) {
                // Removed between the listing and now: it is simply not there.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                other => other,
            };
            let parsed = text.map_err(|e| e.to_string()).and_then(|text| AgentProfile::parse(&text, &stem).map_err(|e| e.to_string()));
            match parsed {
                Ok(mut p) => {
                    if self.found.iter().any(|q| q.name == p.name) {
                        continue; // an earlier directory (the repo's) wins
                    }
                    p.source = Some(path.display().to_string());
                    self.found.push(p);
                }
                Err(why) => {
                    tracing::warn!(path = %path.display(), "skipping agent profile: {why}");
                    self.broken.push((path, why));
                }
            }
        }
    }

    /// The profile names closest to `name` (a typo's likely meaning), best first.
    pub fn did_you_mean(&self, name: &str) -> Option<&str> {
        self.found
            .iter()
            .map(|p| (strsim::jaro_winkler(name, &p.name), p.name.as_str()))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n)
    }

    /// Routes a task to a profile, explaining failures in terms of the files.
    pub fn route(&self, agent: Option<&str>, tags: &[String]) -> Result<&AgentProfile, RoutingError> {
        let searched = self.searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" or ");
        schedule::route(agent, tags, &self.found, &searched).map_err(|e| match (&e, agent) {
            (RouteError::UnknownAgent { .. }, Some(name)) => {
                match self.broken.iter().find(|(p, _)| p.file_stem().is_some_and(|s| s == name)) {
                    Some((path, why)) => RoutingError::Invalid { path: path.clone(), why: why.clone() },
                    None => e.into(),
                }
            }
            _ => e.into(),
        })
    }
}
