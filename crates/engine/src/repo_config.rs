//! Reading a repo's `.bosun/config.toml` (what the core parses, from where it lives).

use std::path::{Path, PathBuf};

use bosun_core::repo_config::RepoConfig;

#[derive(Debug, thiserror::Error)]
pub enum RepoConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The repo's `.bosun/config.toml` (defaults when it has none).
pub fn repo_config(repo_root: &Path) -> Result<RepoConfig, RepoConfigError> {
    let path = repo_root.join(".bosun").join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => RepoConfig::parse(&text).map_err(|message| RepoConfigError::Invalid { path, message }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoConfig::default()),
        Err(source) => Err(RepoConfigError::Read { path, source }),
    }
}
