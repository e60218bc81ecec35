//! The forge: where a repo's pull requests go. Works out, from the repo, GitHub's
//! repository (the repo's `.bosun/config.toml` `[github] repo`, else its remote's URL),
//! the API base (`[github] api`, else `BOSUN_GITHUB_API`, else api.github.com) and the
//! token (`GITHUB_TOKEN`, else `gh auth token`); the pull requests themselves go
//! through [`bosun_sources::pulls`], the GitHub client the task sources share. The
//! branch is pushed over the repo's own remote first.

use std::path::Path;

use bosun_core::repo_config::{owner_repo_from_url, parse_owner_repo};
use bosun_core::{PullRequest, Task};
use bosun_git::Repo;
use bosun_sources::SourceError;
use bosun_sources::pulls::Pulls;

use crate::error::OpError;
use crate::repo_config::{RepoConfigError, repo_config};

const DEFAULT_API: &str = "https://api.github.com";

/// Why talking to GitHub did not work, by whose fault.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The repo or the daemon is not set up for it (no remote, no token, ...).
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Config(#[from] RepoConfigError),
    #[error(transparent)]
    Git(#[from] bosun_git::GitError),
    /// GitHub refused, failed or could not be reached.
    #[error("{what}: {source}")]
    GitHub { what: &'static str, source: SourceError },
}

impl From<ForgeError> for OpError {
    fn from(e: ForgeError) -> Self {
        match e {
            ForgeError::Setup(_) | ForgeError::Config(_) | ForgeError::Git(_) => OpError::Refused(e.to_string()),
            ForgeError::GitHub { .. } => OpError::Unavailable { service: "GitHub", message: e.to_string() },
        }
    }
}

/// Where a repo's pull requests go, and with which credentials.
pub struct Forge {
    pulls: Pulls,
    pub remote: String,
}

impl Forge {
    /// Works out the forge of a repo from its config and remote. Errors are meant for
    /// the user ("set GITHUB_TOKEN", "add [github] repo = ...").
    pub async fn for_repo(repo: &Repo) -> Result<Forge, ForgeError> {
        let config = repo_config(repo.root())?.github;
        let remote = config.remote.unwrap_or_else(|| "origin".to_string());
        let url = repo.remote_url(&remote).await?;
        let Some(url) = url else {
            return Err(ForgeError::Setup(format!("{} has no remote `{remote}` to push to", repo.root().display())));
        };
        let (owner, name) = match &config.repo {
            Some(r) => parse_owner_repo(r).ok_or_else(|| ForgeError::Setup(format!("github.repo must be `owner/name`, not {r:?}")))?,
            None => owner_repo_from_url(&url).ok_or_else(|| {
                ForgeError::Setup(format!("cannot tell the GitHub repository from remote `{remote}` ({url}): set `[github] repo = \"owner/name\"` in .bosun/config.toml"))
            })?,
        };
        let api = config
            .api
            .or_else(|| std::env::var("BOSUN_GITHUB_API").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_API.to_string());
        let token = token().await?;
        let pulls = Pulls::new(&api, &token, &owner, &name).map_err(|e| ForgeError::Setup(e.to_string()))?;
        Ok(Forge { pulls, remote })
    }

    /// `owner/name`.
    pub fn slug(&self) -> String {
        self.pulls.slug()
    }

    /// Opens a pull request, or finds the one already open for `head`.
    pub async fn open(&self, head: &str, base: &str, title: &str, body: &str, draft: bool) -> Result<PullRequest, ForgeError> {
        self.pulls
            .open(head, base, title, body, draft)
            .await
            .map_err(|source| ForgeError::GitHub { what: "opening the pull request", source })
    }

    /// The pull request's state now.
    pub async fn get(&self, number: i64) -> Result<PullRequest, ForgeError> {
        self.pulls.get(number).await.map_err(|source| ForgeError::GitHub { what: "reading the pull request", source })
    }
}

/// `GITHUB_TOKEN`, else what `gh auth token` prints.
pub(crate) async fn token() -> Result<String, ForgeError> {
    if let Some(t) = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let out = tokio::process::Command::new("gh").args(["auth", "token"]).stdin(std::process::Stdio::null()).output().await;
    match out {
        Ok(o) if o.status.success() && !o.stdout.trim_ascii().is_empty() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        _ => Err(ForgeError::Setup("no GitHub token: set GITHUB_TOKEN for the daemon, or log in with `gh auth login`".into())),
    }
}

/// The pull request's description: the task, what the agent said last, a link back.
pub fn pr_body(task: &Task, summary: Option<&str>, link: &str) -> String {
    let mut body = String::new();
    if !task.body.trim().is_empty() {
        body.push_str(task.body.trim());
        body.push_str("\n\n");
    }
    if let Some(summary) = summary.filter(|s| !s.trim().is_empty()) {
        body.push_str("## What the agent did\n\n");
        body.push_str(summary.trim());
        body.push_str("\n\n");
    }
    body.push_str(&format!("---\nOpened by bosun for [T-{}]({link}).", task.id));
    body
}

/// The repo a task belongs to.
pub async fn repo_of(task: &Task) -> Result<Repo, ForgeError> {
    let path = task
        .repo
        .as_deref()
        .ok_or_else(|| ForgeError::Setup(format!("T-{} has no repo: there is no branch to open a pull request for", task.id)))?;
    Ok(Repo::open(Path::new(path)).await?)
}
