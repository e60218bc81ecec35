//! A typed client of bosun's HTTP API: one method per route, each sending the
//! request type of this crate (or core's) and decoding the answer into its response
//! type, so a caller (the CLI, and later the MCP server and worker nodes) never
//! writes a path, a JSON literal or an error-body parser of its own.
//!
//! Every state-changing request sends a JSON body (`{}` when there is nothing to
//! say): the server refuses state changes without `Content-Type: application/json`.

mod deliverable;
pub use deliverable::Content;
mod notify;
mod source;

use std::pin::Pin;

use bosun_core::{Event, NewTask, Task, TaskId};
use chrono::{DateTime, Utc};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use reqwest::header::ACCEPT;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use bosun_core::auth::Principal;

use crate::{
    AfterRequest, AgentsBody, AllowRule, AnswerBody, AnswerRequest, ArchiveBody, ArchiveRequest, Device, DiffBody, DiscardRequest,
    ErrorBody, GcItem, GcRequest, Health, LossBody, MergeBody, MergeRequest, NewTokenBody, NewTokenRequest, PairingBody, PairingRequest,
    PendingApproval, PrRequest, RebaseBody, RepoSummary, RetryRequest, RmBody, RmRequest, RulesQuery, SayBody, SayRequest, TaskQuery,
};

/// Why a call did not give an answer of the expected type.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL given to [`Client::new`] is not an `http://` or `https://` URL.
    #[error("the server address must be an http:// or https:// URL, not {url:?}")]
    InvalidUrl { url: String },
    /// The token holds characters no HTTP header may carry.
    #[error("the token is not valid: it holds characters a token never has")]
    InvalidToken,
    /// The HTTP client itself could not be set up.
    #[error("cannot build an HTTP client: {0}")]
    Setup(#[source] reqwest::Error),
    /// Nothing answered at the base URL (connection refused, no route, ...).
    #[error("cannot reach the bosun daemon at {base}: is `bosun serve` running? (set --server or BOSUN_URL)")]
    Unreachable {
        base: String,
        #[source]
        source: reqwest::Error,
    },
    /// The daemon answered over TLS with a certificate this client does not trust (or
    /// spoke plain HTTP to an `https://` URL).
    #[error("cannot make a TLS connection to {base}: {reason} (for a self-signed certificate pass --ca FILE or set BOSUN_CA)")]
    Tls { base: String, reason: String },
    /// An `http://` URL answered with something that is not HTTP: most likely a
    /// daemon serving HTTPS.
    #[error("{base} did not answer in plain HTTP: if the daemon serves HTTPS, use https:// in --server or BOSUN_URL")]
    NotHttp { base: String },
    /// The request or its answer broke off in transit (not a refused connection).
    #[error("request to {base} failed: {source}")]
    Transport {
        base: String,
        #[source]
        source: reqwest::Error,
    },
    /// The API refused or failed the request, saying why (`{"error": {"code", "message"}}`).
    /// Shown as the message alone: it is written for the user.
    #[error("{message}")]
    Api { status: StatusCode, code: String, message: String },
    /// An error status without bosun's error body: something else answered, or it broke.
    #[error("{}", unexplained(*status))]
    Status { status: StatusCode },
    /// A success status whose body is not the expected type.
    #[error("unexpected answer from the daemon: {0}")]
    Undecodable(#[source] serde_json::Error),
    /// An SSE stream broke off or could not be parsed.
    #[error("event stream broke: {0}")]
    Stream(#[source] EventStreamError<reqwest::Error>),
    /// An SSE message whose data is not the expected type.
    #[error("bad event from the daemon: {0}")]
    BadEvent(#[source] serde_json::Error),
}

fn unexplained(status: StatusCode) -> String {
    if status == StatusCode::NOT_FOUND {
        "not found (is the server a bosun daemon?)".into()
    } else {
        format!("the daemon answered {status}")
    }
}

impl ClientError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } | ClientError::Status { status } => Some(*status),
            _ => None,
        }
    }

    /// The API's error code (`not_found`, `conflict`, `bad_request`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A task's events as they happen (`GET /api/tasks/{id}/events` as SSE).
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, ClientError>> + Send>>;

/// Task changes as they happen (`GET /api/events`).
pub type ChangeStream = Pin<Box<dyn Stream<Item = Result<TaskChange, ClientError>> + Send>>;

/// One message of `GET /api/events`.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskChange {
    /// A task as it is now (created, started, finished, merged, ...).
    Task(Box<Task>),
    /// The stream fell behind and dropped changes: re-read the task list.
    Resync,
}

/// Where a followed event stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Until {
    /// When the client drops it or the daemon stops.
    #[default]
    Closed,
    /// Once the task has settled (review, failed, stopped, ...): right after the replay
    /// if it already has, else after the status event that settles it.
    Settled,
}

/// `{}`: the body of a state change that has nothing to say.
#[derive(Serialize)]
struct Empty {}

/// What a failed connection says about TLS, if anything: the daemon's certificate
/// was refused, or an `http://` URL reached a daemon speaking TLS.
enum Mismatch {
    Certificate(String),
    NotHttp,
}

fn tls_mismatch(e: &reqwest::Error) -> Option<Mismatch> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(Mismatch::Certificate(certificate_reason(tls)));
        }
        if err.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
            return Some(Mismatch::NotHttp);
        }
        // An I/O error's `source` skips the error it wraps: step into that one.
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn certificate_reason(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer
            | C::BadSignature
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "its certificate is not signed by a CA this client trusts".into()
            }
            C::Expired | C::ExpiredContext { .. } => "its certificate has expired".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => "its certificate is not for this host name".into(),
            C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                "its certificate is a CA certificate used as the server's own (make it with basicConstraints CA:FALSE, or sign it with a CA and trust that)".into()
            }
            other => format!("its certificate is refused ({other:?})"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "it does not speak TLS (is it serving plain http://?)".into()
        }
        other => other.to_string(),
    }
}

/// The host a daemon URL names (`127.0.0.1`, `box.lan`), if it is a URL.
pub fn url_host(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok()?.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
}

/// How a [`Client`] connects, beyond the daemon's address.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Extra root certificates (PEM) to trust: a daemon's self-signed certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// Sent as `Authorization: Bearer <token>` with every request.
    pub token: Option<String>,
}

/// A client of one bosun daemon. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// What to tell the user when the daemon answers 401 (where the token came from
    /// and what to do); None: the daemon's own message.
    unauthorized_hint: Option<String>,
}

impl Client {
    /// A client of the daemon at `base_url` (`http://127.0.0.1:7777`; a trailing `/`
    /// is ignored). Nothing is sent until the first call.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        Client::with_options(base_url, ClientOptions::default())
    }

    /// A client that sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(base_url: &str, token: Option<&str>) -> Result<Client, ClientError> {
        Client::with_options(base_url, ClientOptions { token: token.map(str::to_string), ..ClientOptions::default() })
    }

    /// [`Client::new`], connecting as `options` say.
    pub fn with_options(base_url: &str, options: ClientOptions) -> Result<Client, ClientError> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::InvalidUrl { url: base_url.to_string() });
        }
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &options.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(ClientError::Setup)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = &options.token {
            let mut value =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| ClientError::InvalidToken)?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = builder.default_headers(headers).build().map_err(ClientError::Setup)?;
        Ok(Client { base, http, unauthorized_hint: None })
    }

    /// Says `hint` instead of the daemon's message when it refuses the credential (401):
    /// the client knows where its token came from, the daemon does not.
    pub fn on_unauthorized(mut self, hint: String) -> Client {
        self.unauthorized_hint = Some(hint);
        self
    }

    /// The daemon's address, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /api/health`
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get("/api/health").await
    }

    /// `GET /api/tasks`: tasks, oldest first.
    pub async fn list_tasks(&self, query: &TaskQuery) -> Result<Vec<Task>, ClientError> {
        self.decode(self.http.get(self.url("/api/tasks")).query(query)).await
    }

    /// `POST /api/tasks`: queue a task.
    pub async fn create_task(&self, new: &NewTask) -> Result<Task, ClientError> {
        self.post("/api/tasks", new).await
    }

    /// `GET /api/tasks/{id}`: one task with its runs.
    pub async fn task(&self, id: TaskId) -> Result<Task, ClientError> {
        self.get(&format!("/api/tasks/{id}")).await
    }

    /// `POST /api/tasks/{id}/stop`: cancel a queued task, or stop a running one
    /// (answers once it has stopped).
    pub async fn stop(&self, id: TaskId) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/stop"), &Empty {}).await
    }

    /// `POST /api/tasks/{id}/interrupt`: cut the running agent's turn short.
    pub async fn interrupt(&self, id: TaskId) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/interrupt"), &Empty {}).await
    }

    /// `POST /api/tasks/{id}/retry`: queue a failed, stopped or interrupted task again.
    pub async fn retry(&self, id: TaskId, req: &RetryRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/retry"), req).await
    }

    /// `POST /api/tasks/{id}/merge`: merge a reviewed task's branch into its base.
    pub async fn merge(&self, id: TaskId, req: &MergeRequest) -> Result<MergeBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/merge"), req).await
    }

    /// `GET /api/tasks/{id}/diff`: the task branch against its base.
    pub async fn diff(&self, id: TaskId) -> Result<DiffBody, ClientError> {
        self.get(&format!("/api/tasks/{id}/diff")).await
    }

    /// `POST /api/tasks/{id}/edit`: change a queued task.
    pub async fn edit(&self, id: TaskId, req: &crate::EditRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/edit"), req).await
    }

    /// `GET /api/tasks/{id}/files`: the changed files with line counts and conflicts.
    pub async fn files(&self, id: TaskId) -> Result<crate::FilesBody, ClientError> {
        self.get(&format!("/api/tasks/{id}/files")).await
    }

    /// `GET /api/tasks/{id}/files/diff?path=`: one changed file's diff.
    pub async fn file_diff(&self, id: TaskId, path: &str) -> Result<crate::FileDiffBody, ClientError> {
        let query = crate::FileDiffQuery { path: path.to_owned(), side: None };
        self.decode(self.http.get(self.url(&format!("/api/tasks/{id}/files/diff"))).query(&query)).await
    }

    /// `POST /api/tasks/{id}/rebase`: rebase the task branch onto its base (a conflict
    /// is an [`ClientError::Api`] 409 naming the files).
    pub async fn rebase(&self, id: TaskId) -> Result<RebaseBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/rebase"), &Empty {}).await
    }

    /// `POST /api/tasks/{id}/rm`: remove the task's worktree and branch.
    pub async fn rm(&self, id: TaskId, req: &RmRequest) -> Result<RmBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/rm"), req).await
    }

    /// `POST /api/tasks/{id}/discard`: give up on the task; its worktree and branch go.
    pub async fn discard(&self, id: TaskId, req: &DiscardRequest) -> Result<RmBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/discard"), req).await
    }

    /// `GET /api/tasks/{id}/loss`: what discarding the task would lose.
    pub async fn loss(&self, id: TaskId) -> Result<LossBody, ClientError> {
        self.get(&format!("/api/tasks/{id}/loss")).await
    }

    /// `POST /api/archive`: hide done or discarded tasks from lists.
    pub async fn archive(&self, req: &ArchiveRequest) -> Result<ArchiveBody, ClientError> {
        self.post("/api/archive", req).await
    }

    /// `POST /api/tasks/{id}/pr`: open (or refresh) the task's pull request.
    pub async fn pr(&self, id: TaskId, req: &PrRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/pr"), req).await
    }

    /// `POST /api/tasks/{id}/say`: a message for the task's agent.
    pub async fn say(&self, id: TaskId, req: &SayRequest) -> Result<SayBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/say"), req).await
    }

    /// `POST /api/tasks/{id}/reply`: feedback on a task in review; it runs again.
    pub async fn reply(&self, id: TaskId, req: &SayRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/reply"), req).await
    }

    /// `POST /api/tasks/{id}/after`: make the task also wait for other tasks.
    pub async fn after(&self, id: TaskId, req: &AfterRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/after"), req).await
    }

    /// `POST /api/tasks/{id}/approve`: allow what the task's agent asked for.
    pub async fn approve(&self, id: TaskId, req: &AnswerRequest) -> Result<AnswerBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/approve"), req).await
    }

    /// `POST /api/tasks/{id}/deny`: refuse what the task's agent asked for.
    pub async fn deny(&self, id: TaskId, req: &AnswerRequest) -> Result<AnswerBody, ClientError> {
        self.post(&format!("/api/tasks/{id}/deny"), req).await
    }

    /// `GET /api/approvals`: every pending ask (of `task` alone, when given), with its
    /// task's title and agent.
    pub async fn approvals(&self, task: Option<TaskId>) -> Result<Vec<PendingApproval>, ClientError> {
        let query: Vec<(&str, TaskId)> = task.map(|t| ("task", t)).into_iter().collect();
        self.decode(self.http.get(self.url("/api/approvals")).query(&query)).await
    }

    /// `GET /api/agents`: the user's agent profiles, and also `repo`'s (`<repo>/.bosun/agents`).
    pub async fn agents(&self, repo: Option<&str>) -> Result<AgentsBody, ClientError> {
        let query: Vec<(&str, &str)> = repo.map(|r| ("repo", r)).into_iter().collect();
        self.decode(self.http.get(self.url("/api/agents")).query(&query)).await
    }

    /// `GET /api/costs`: totals from the ledger.
    pub async fn costs(&self, by: crate::cost::CostBy, since: Option<DateTime<Utc>>) -> Result<crate::cost::CostsBody, ClientError> {
        let by = serde_json::to_value(by).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let mut query = vec![("by", by)];
        if let Some(since) = since {
            query.push(("since", since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        self.decode(self.http.get(self.url("/api/costs")).query(&query)).await
    }

    /// `GET /api/budgets`: every budget and where it stands.
    pub async fn budgets(&self) -> Result<crate::cost::BudgetsBody, ClientError> {
        self.decode(self.http.get(self.url("/api/budgets"))).await
    }

    /// `POST /api/tasks/{id}/budget`: set a task's budget; one its budget stopped goes on.
    pub async fn raise_budget(&self, id: TaskId, req: &crate::cost::RaiseRequest) -> Result<Task, ClientError> {
        self.post(&format!("/api/tasks/{id}/budget"), req).await
    }

    /// `POST /api/route/explain`: where a task like `task` would go, and why.
    pub async fn explain_route(&self, task: &bosun_core::NewTask) -> Result<crate::route::RouteExplained, ClientError> {
        self.post("/api/route/explain", task).await
    }

    /// `GET /api/rules`: the allow rules, saved and in profile files.
    pub async fn rules(&self, query: &RulesQuery) -> Result<Vec<AllowRule>, ClientError> {
        self.decode(self.http.get(self.url("/api/rules")).query(query)).await
    }

    /// `DELETE /api/rules/{id}`: revoke a saved allow rule.
    pub async fn revoke_rule(&self, id: i64) -> Result<AllowRule, ClientError> {
        // A state change: the JSON content type the server requires, with `{}`.
        self.decode(self.http.delete(self.url(&format!("/api/rules/{id}"))).json(&Empty {})).await
    }

    /// `POST /api/gc`: the workspaces that can go; removed with `yes`.
    pub async fn gc(&self, req: &GcRequest) -> Result<Vec<GcItem>, ClientError> {
        self.post("/api/gc", req).await
    }

    /// `GET /api/repos`: the repositories with tasks, with counts by status.
    pub async fn repos(&self) -> Result<Vec<RepoSummary>, ClientError> {
        self.get("/api/repos").await
    }

    /// `GET /api/tasks/{id}/events` as JSON: at most `limit` (1 to 10,000) stored
    /// events with a sequence number greater than `after`, in order.
    pub async fn events(&self, id: TaskId, after: i64, limit: i64) -> Result<Vec<Event>, ClientError> {
        let query = [("after", after), ("limit", limit)];
        self.decode(self.http.get(self.url(&format!("/api/tasks/{id}/events"))).query(&query)).await
    }

    /// `GET /api/tasks/{id}/events` as SSE: the stored events after `after`, then the
    /// live ones as they are stored, until `until`. The stream ends when the daemon
    /// ends it (or stops); an item is an error if the stream broke.
    pub async fn follow_events(&self, id: TaskId, after: i64, until: Until) -> Result<EventStream, ClientError> {
        let mut query = vec![("after", after.to_string())];
        if until == Until::Settled {
            query.push(("until", "settled".to_string()));
        }
        let req = self.http.get(self.url(&format!("/api/tasks/{id}/events"))).query(&query);
        let resp = self.send(req.header(ACCEPT, "text/event-stream")).await?;
        let events = resp.bytes_stream().eventsource().map(|msg| {
            let msg = msg.map_err(ClientError::Stream)?;
            serde_json::from_str::<Event>(&msg.data).map_err(ClientError::BadEvent)
        });
        Ok(Box::pin(events))
    }

    /// `GET /api/events` (SSE): every task change from now on. Messages of kinds this
    /// client does not know are skipped.
    pub async fn task_changes(&self) -> Result<ChangeStream, ClientError> {
        let resp = self.send(self.http.get(self.url("/api/events")).header(ACCEPT, "text/event-stream")).await?;
        let changes = resp.bytes_stream().eventsource().filter_map(|msg| async move {
            let msg = match msg {
                Ok(msg) => msg,
                Err(e) => return Some(Err(ClientError::Stream(e))),
            };
            match msg.event.as_str() {
                "task" => {
                    Some(serde_json::from_str::<Task>(&msg.data).map(|t| TaskChange::Task(Box::new(t))).map_err(ClientError::BadEvent))
                }
                "resync" => Some(Ok(TaskChange::Resync)),
                _ => None,
            }
        });
        Ok(Box::pin(changes))
    }

    /// `GET /api/me`: who this client's credential is.
    pub async fn me(&self) -> Result<Principal, ClientError> {
        self.get("/api/me").await
    }

    /// `POST /api/tokens`: a new named token (its secret is in the answer only).
    pub async fn create_token(&self, req: &NewTokenRequest) -> Result<NewTokenBody, ClientError> {
        self.post("/api/tokens", req).await
    }

    /// `GET /api/devices`: the tokens and browser sessions that have access.
    pub async fn devices(&self) -> Result<Vec<Device>, ClientError> {
        self.get("/api/devices").await
    }

    /// `DELETE /api/devices/{id}`: revoke a token or a browser session.
    pub async fn revoke_device(&self, id: i64) -> Result<Device, ClientError> {
        self.decode(self.http.delete(self.url(&format!("/api/devices/{id}"))).json(&Empty {})).await
    }

    /// `POST /api/pairings`: a single-use pairing link for a new device.
    pub async fn pair(&self, req: &PairingRequest) -> Result<PairingBody, ClientError> {
        self.post("/api/pairings", req).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.decode(self.http.get(self.url(path))).await
    }

    /// A state change: always a JSON body, so always `Content-Type: application/json`.
    async fn post<T: DeserializeOwned>(&self, path: &str, body: &(impl Serialize + ?Sized)) -> Result<T, ClientError> {
        self.decode(self.http.post(self.url(path)).json(body)).await
    }

    async fn decode<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, ClientError> {
        let resp = self.send(req.header(ACCEPT, "application/json")).await?;
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(ClientError::Undecodable)
    }

    /// Sends `req`; an error status becomes [`ClientError::Api`] or [`ClientError::Status`].
    async fn send(&self, req: RequestBuilder) -> Result<Response, ClientError> {
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let bytes = resp.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) if status == StatusCode::UNAUTHORIZED && self.unauthorized_hint.is_some() => {
                let hint = self.unauthorized_hint.clone().unwrap_or_default();
                ClientError::Api { status, code: body.error.code, message: hint }
            }
            Ok(body) => ClientError::Api { status, code: body.error.code, message: body.error.message },
            Err(_) => ClientError::Status { status },
        })
    }

    fn transport(&self, e: reqwest::Error) -> ClientError {
        let base = self.base.clone();
        match tls_mismatch(&e) {
            Some(Mismatch::Certificate(reason)) => return ClientError::Tls { base, reason },
            Some(Mismatch::NotHttp) if base.starts_with("http://") => return ClientError::NotHttp { base },
            _ => {}
        }
        if e.is_connect() { ClientError::Unreachable { base, source: e } } else { ClientError::Transport { base, source: e } }
    }
}
