//! The verbs' view of the daemon: the typed API client (`bosun_api::client`), the
//! `--json` switch, and how task ids are written. Every failure of a call becomes a
//! [`Failure`] carrying the client error's message.

use bosun_api::client::{Client, ClientError, ClientOptions};
use serde::Serialize;

use crate::Failure;

pub struct Ctx {
    pub api: Client,
    pub json: bool,
}

impl Ctx {
    pub fn new(server: &str, ca: Option<&std::path::Path>, json: bool) -> Result<Ctx, Failure> {
        let ca_pem = ca
            .map(|path| {
                std::fs::read(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Failure(format!("--ca {}: no such file", path.display())),
                    kind => Failure(format!("--ca {}: {kind}", path.display())),
                })
            })
            .transpose()?;
        let api = Client::with_options(server, ClientOptions { ca_pem }).map_err(|e| match e {
            ClientError::InvalidUrl { .. } => Failure(format!("--server must be an http:// or https:// URL, not {server:?}")),
            e => Failure::from(e),
        })?;
        Ok(Ctx { api, json })
    }

    /// Prints `value` as JSON on one line.
    pub fn print_json(&self, value: &impl Serialize) {
        println!("{}", serde_json::to_string(value).expect("values serialize"));
    }
}

/// The root of the git repository `path` is in (any directory inside it, relative or
/// not, a worktree too), as the daemon names repos; None when it is in none.
pub fn repo_root(path: &std::path::Path) -> Result<Option<String>, Failure> {
    let abs = repo_path(path)?;
    Ok(abs.ancestors().find(|dir| dir.join(".git").exists()).map(|root| root.to_string_lossy().into_owned()))
}

/// `--repo PATH` made absolute; a path that is not there is no repository, said as the
/// daemon says it.
pub fn repo_path(path: &std::path::Path) -> Result<std::path::PathBuf, Failure> {
    std::fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Failure(format!("not a git repository: {}", path.display())),
        kind => Failure(format!("repo {}: {kind}", path.display())),
    })
}

/// Parses `12`, `T-12`, `t12` or `#12`.
pub fn parse_task_id(s: &str) -> Result<i64, String> {
    let digits = s.trim().trim_start_matches('#');
    let digits = digits.strip_prefix("T-").or_else(|| digits.strip_prefix("t-")).unwrap_or(digits);
    let digits = digits.strip_prefix('T').or_else(|| digits.strip_prefix('t')).unwrap_or(digits);
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a task id (like 12 or T-12)")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_task_id;

    #[test]
    fn task_ids() {
        for s in ["12", "T-12", "t-12", "#12", "T12"] {
            assert_eq!(parse_task_id(s), Ok(12), "{s}");
        }
        for s in ["", "T-", "abc", "-3", "0", "12a"] {
            assert!(parse_task_id(s).is_err(), "{s}");
        }
    }
}
