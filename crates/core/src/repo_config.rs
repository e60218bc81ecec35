//! A repository's own bosun settings, `.bosun/config.toml`: which untracked files
//! new worktrees get copied from the main checkout, and where its pull requests go.
//!
//! ```toml
//! copy = [".env*", "config/local.yml"]
//!
//! [github]
//! repo = "owner/name"              # default: read from the remote's URL
//! remote = "origin"                # default
//! api = "https://api.github.com"   # default; GitHub Enterprise: https://HOST/api/v3
//!
//! [pool]
//! size = 2                         # warm worktrees kept ready (default: `serve --pool`, else 0)
//!
//! [setup]
//! poolable = true                  # `.bosun/setup` may run ahead of any task, in the pool
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Globs, relative to the repo root, of untracked files to copy into new worktrees.
    #[serde(default)]
    pub copy: Vec<String>,
    #[serde(default)]
    pub github: GithubConfig,
    /// Routing rules (`[[route]]`), read by [`crate::route::parse`].
    #[serde(default, rename = "route")]
    pub routes: Vec<toml::Value>,
    #[serde(default)]
    pub pool: PoolConfig,
    #[serde(default)]
    pub setup: SetupConfig,
}

/// `[pool]`: the repo's warm worktrees.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// How many to keep ready; None: the daemon's `--pool`.
    pub size: Option<usize>,
}

/// `[setup]`: how the repo's `.bosun/setup` script may run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupConfig {
    /// It needs no task (no task's variables, no agent's profile): it may run in a
    /// pool worktree before any task takes it, and its result stays valid for any
    /// task started from the same commit.
    #[serde(default)]
    pub poolable: bool,
}

/// More warm worktrees than this per repo is a mistake, not a wish.
pub const MAX_POOL: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    pub repo: Option<String>,
    pub remote: Option<String>,
    pub api: Option<String>,
}

impl RepoConfig {
    pub fn parse(text: &str) -> Result<RepoConfig, String> {
        let config: RepoConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        for pattern in &config.copy {
            check_copy_pattern(pattern)?;
        }
        if config.pool.size.is_some_and(|n| n > MAX_POOL) {
            return Err(format!("pool.size must be at most {MAX_POOL}"));
        }
        if let Some(repo) = &config.github.repo {
            parse_owner_repo(repo).ok_or_else(|| format!("github.repo must be `owner/name`, not {repo:?}"))?;
        }
        Ok(config)
    }
}

/// A copy glob must stay inside the repo: relative, no `..`, not into `.git`.
pub fn check_copy_pattern(pattern: &str) -> Result<(), String> {
    let bad = pattern.is_empty() || pattern.starts_with('/') || pattern.split('/').any(|part| part == ".." || part == ".git");
    if bad { Err(format!("copy pattern {pattern:?} must be relative to the repo, without `..` or `.git`")) } else { Ok(()) }
}

/// `owner/name` → (owner, name), both non-empty and made of URL-safe characters.
pub fn parse_owner_repo(s: &str) -> Option<(String, String)> {
    let (owner, name) = s.split_once('/')?;
    let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) && p != "." && p != "..";
    (ok(owner) && ok(name)).then(|| (owner.to_string(), name.to_string()))
}

/// The `owner/name` of a GitHub remote URL: `git@host:o/r.git`, `https://host/o/r(.git)`,
/// `ssh://git@host/o/r.git`.
pub fn owner_repo_from_url(url: &str) -> Option<(String, String)> {
    let url = url.trim().trim_end_matches('/');
    let path = if let Some(rest) = url.split_once("://").map(|(_, r)| r) { rest.split_once('/')?.1 } else { url.split_once(':')?.1 };
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [.., owner, name] => parse_owner_repo(&format!("{owner}/{name}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let c = RepoConfig::parse("copy = [\".env*\"]\n[github]\nrepo = \"acme/app\"\n").unwrap();
        assert_eq!(c.copy, vec![".env*"]);
        assert_eq!(c.github.repo.as_deref(), Some("acme/app"));
        assert_eq!(RepoConfig::parse("").unwrap(), RepoConfig::default());
        assert!(RepoConfig::parse("copy = [\"../secrets\"]").unwrap_err().contains("without `..`"));
        assert!(RepoConfig::parse("copy = [\"/etc/passwd\"]").is_err());
        assert!(RepoConfig::parse("bogus = 1").is_err());
        assert!(RepoConfig::parse("[github]\nrepo = \"no-slash\"").is_err());
        let pooled = RepoConfig::parse("[pool]\nsize = 2\n[setup]\npoolable = true\n").unwrap();
        assert_eq!((pooled.pool.size, pooled.setup.poolable), (Some(2), true));
        assert!(RepoConfig::parse("[pool]\nsize = 1000").unwrap_err().contains("at most"));
    }

    #[test]
    fn remote_urls() {
        let want = Some(("acme".to_string(), "app".to_string()));
        for url in [
            "git@github.com:acme/app.git",
            "https://github.com/acme/app",
            "https://github.com/acme/app.git/",
            "ssh://git@github.com/acme/app.git",
        ] {
            assert_eq!(owner_repo_from_url(url), want, "{url}");
        }
        assert_eq!(owner_repo_from_url("/srv/git/app.git"), None, "a path is no GitHub remote");
        assert_eq!(owner_repo_from_url("nonsense"), None);
    }
}
