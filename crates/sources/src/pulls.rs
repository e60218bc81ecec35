//! GitHub pull requests, the client `bosun pr` uses (the same [`Http`] as the GitHub
//! source: its rate, `Retry-After` and backoff, its errors in words): open one for a
//! branch, or find the one already open for it; read one's state now.

use bosun_core::{PrState, PullRequest};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::json;

use crate::http::{Http, SourceError};

const PER_SECOND: u32 = 10;

/// A repository's pull requests.
pub struct Pulls {
    http: Http,
    owner: String,
    name: String,
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

impl Pulls {
    pub fn new(api: &str, token: &str, owner: &str, name: &str) -> Result<Pulls, SourceError> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| SourceError::Setup("the GitHub token holds characters a header cannot carry".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("X-GitHub-Api-Version", HeaderValue::from_static("2022-11-28"));
        Ok(Pulls { http: Http::new("GitHub", api, PER_SECOND, headers), owner: owner.into(), name: name.into() })
    }

    /// `owner/name`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}/{rest}", self.owner, self.name)
    }

    async fn pull(&self, what: &str, build: impl Fn() -> reqwest::RequestBuilder) -> Result<ApiPull, SourceError> {
        let res = self.http.send(what, build).await?;
        res.json::<ApiPull>().await.map_err(|e| self.http.decode(e))
    }

    /// Opens a pull request for `head` into `base`, or finds the one already there.
    pub async fn open(&self, head: &str, base: &str, title: &str, body: &str, draft: bool) -> Result<PullRequest, SourceError> {
        let new = json!({ "title": title, "head": head, "base": base, "body": body, "draft": draft });
        match self.pull("the repository", || self.http.request(Method::POST, &self.path("pulls")).json(&new)).await {
            Ok(p) => Ok(p.into_pr()),
            Err(SourceError::Api { status: 422, message, .. }) if message.contains("already exists") => {
                self.find(head).await?.ok_or(SourceError::Api { service: "GitHub", status: 422, message })
            }
            Err(e) => Err(e),
        }
    }

    async fn find(&self, head: &str) -> Result<Option<PullRequest>, SourceError> {
        let query = [("head", format!("{}:{head}", self.owner)), ("state", "all".to_string())];
        let res = self.http.send("the repository", || self.http.request(Method::GET, &self.path("pulls")).query(&query)).await?;
        let pulls: Vec<ApiPull> = res.json().await.map_err(|e| self.http.decode(e))?;
        Ok(pulls.into_iter().next().map(ApiPull::into_pr))
    }

    /// The pull request's state now.
    pub async fn get(&self, number: i64) -> Result<PullRequest, SourceError> {
        let path = self.path(&format!("pulls/{number}"));
        Ok(self.pull("the pull request", || self.http.request(Method::GET, &path)).await?.into_pr())
    }
}
