//! The forge: pull requests on GitHub (or GitHub Enterprise) for task branches, through the
//! REST API. The token comes from `GITHUB_TOKEN`, else from `gh auth token`; the API
//! base from the repo's `.bosun/config.toml` (`[github] api`), else `BOSUN_GITHUB_API`,
//! else api.github.com. The branch is pushed over the repo's own remote first.

use std::path::Path;

use bosun_core::repo_config::{owner_repo_from_url, parse_owner_repo};
use bosun_core::{PrState, PullRequest, Task};
use bosun_git::Repo;
use serde::Deserialize;
use serde_json::json;

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
    #[error("{what}: cannot reach GitHub at {api}: {source}")]
    Unreachable { what: &'static str, api: String, source: reqwest::Error },
    #[error("{what}: GitHub answered {status}: {message}")]
    Api { what: &'static str, status: reqwest::StatusCode, message: String },
    #[error("unexpected answer from GitHub: {0}")]
    Decode(reqwest::Error),
}

impl From<ForgeError> for OpError {
    fn from(e: ForgeError) -> Self {
        match e {
            ForgeError::Setup(_) | ForgeError::Config(_) | ForgeError::Git(_) => OpError::Refused(e.to_string()),
            ForgeError::Unreachable { .. } | ForgeError::Api { .. } | ForgeError::Decode(_) => {
                OpError::Unavailable { service: "GitHub", message: e.to_string() }
            }
        }
    }
}

/// Where a repo's pull requests go, and with which credentials.
pub struct Forge {
    http: reqwest::Client,
    api: String,
    token: String,
    owner: String,
    name: String,
    pub remote: String,
}

/// The parts of GitHub's pull request object bosun reads.
#[derive(Deserialize)]
struct ApiPull {
    number: i64,
    html_url: String,
    state: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    merged: bool,
    #[serde(default)]
    merged_at: Option<String>,
}

impl ApiPull {
    fn into_pr(self) -> PullRequest {
        let state = if self.merged || self.merged_at.is_some() {
            PrState::Merged
        } else if self.state == "closed" {
            PrState::Closed
        } else {
            PrState::Open
        };
        PullRequest { number: self.number, url: self.html_url, state, draft: self.draft }
    }
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
            .unwrap_or_else(|| DEFAULT_API.to_string())
            .trim_end_matches('/')
            .to_string();
        let token = token().await?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("bosun/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| ForgeError::Setup(format!("cannot build an HTTP client: {e}")))?;
        Ok(Forge { http, api, token, owner, name, remote })
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/repos/{}/{}/{rest}", self.api, self.owner, self.name)
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &'static str) -> Result<reqwest::Response, ForgeError> {
        let resp = req.send().await.map_err(|source| ForgeError::Unreachable { what, api: self.api.clone(), source })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let message = body["message"].as_str().unwrap_or("no message");
        let details = body["errors"]
            .as_array()
            .map(|errs| errs.iter().filter_map(|e| e["message"].as_str()).collect::<Vec<_>>().join("; "))
            .filter(|d| !d.is_empty())
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        Err(ForgeError::Api { what, status, message: format!("{message}{details}") })
    }

    /// Opens a pull request, or finds the one already open for `head`.
    /// `owner/name`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub async fn open(&self, head: &str, base: &str, title: &str, body: &str, draft: bool) -> Result<PullRequest, ForgeError> {
        let req = self
            .request(reqwest::Method::POST, self.url("pulls"))
            .json(&json!({ "title": title, "head": head, "base": base, "body": body, "draft": draft }));
        match self.send(req, "opening the pull request").await {
            Ok(resp) => Ok(resp.json::<ApiPull>().await.map_err(ForgeError::Decode)?.into_pr()),
            Err(ForgeError::Api { what, status: reqwest::StatusCode::UNPROCESSABLE_ENTITY, message })
                if message.contains("already exists") =>
            {
                self.find(head).await?.ok_or(ForgeError::Api { what, status: reqwest::StatusCode::UNPROCESSABLE_ENTITY, message })
            }
            Err(e) => Err(e),
        }
    }

    async fn find(&self, head: &str) -> Result<Option<PullRequest>, ForgeError> {
        let req = self
            .request(reqwest::Method::GET, self.url("pulls"))
            .query(&[("head", format!("{}:{head}", self.owner)), ("state", "all".to_string())]);
        let pulls: Vec<ApiPull> = self.send(req, "looking up the pull request").await?.json().await.map_err(ForgeError::Decode)?;
        Ok(pulls.into_iter().next().map(ApiPull::into_pr))
    }

    /// The pull request's state now.
    pub async fn get(&self, number: i64) -> Result<PullRequest, ForgeError> {
        let req = self.request(reqwest::Method::GET, self.url(&format!("pulls/{number}")));
        let pull: ApiPull = self.send(req, "reading the pull request").await?.json().await.map_err(ForgeError::Decode)?;
        Ok(pull.into_pr())
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
