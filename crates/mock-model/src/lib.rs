//! `bosun-mock-model`: a scripted model server on 127.0.0.1 that speaks the Anthropic
//! Messages API, the OpenAI Responses and Chat Completions APIs and the Gemini API, so tests can run the real
//! agent CLIs (Claude Code, Codex, Gemini CLI) offline and know exactly what they are told.
//!
//! Start it with a [`Script`] (one queue of [`Turn`]s per [`Family`]); each model request
//! pops the next turn of its family and gets it back as that vendor's SSE stream. When a
//! queue is empty the answer is the plain text `done` (so CLIs end rather than hang) and the
//! request is marked `script_exhausted`. Every request, whatever its path, is recorded.
//!
//! | request | family | answer |
//! |---|---|---|
//! | `POST /v1/messages[?beta=true]` | `Anthropic` | SSE if `"stream": true`, else JSON message |
//! | `POST /v1/messages/count_tokens` | `Anthropic` (count) | `{"input_tokens": 10}` |
//! | `POST /v1/responses` | `OpenAi` | SSE |
//! | `POST /v1/chat/completions` | `Chat` | SSE (`data:` chunks, then `[DONE]`) |
//! | `POST /v1beta/models/{m}:streamGenerateContent` | `Gemini` | SSE `data:` chunks |
//! | `POST /v1beta/models/{m}:generateContent` | `GeminiSide` | JSON |
//! | `POST /v1beta/models/{m}:countTokens` | `Gemini` (count) | `{"totalTokens": 10}` |
//! | `GET /v1/models` | none (answered before recording) | `{"data": [{"id": "mock-model"}]}` |
//! | anything else | none | 404 JSON error |
//!
//! In a turn, `{cwd}` is replaced by the working directory found in the request (see
//! [`wire::find_cwd`]).

pub mod script;
pub mod wire;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use script::{Block, Family, Script, Turn, Usage};

/// What a request was, as far as the mock understood it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A model call: it popped (or found empty) its family's queue.
    Model,
    /// A token-counting call, answered with a fixed count.
    CountTokens,
    /// An unknown path, answered 404.
    NotFound,
}

/// One request as received.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// Position among all requests, from 0; also used in the ids of the answer.
    pub seq: usize,
    pub family: Option<Family>,
    pub kind: Kind,
    pub method: String,
    pub path: String,
    /// The raw query string without `?` (e.g. `beta=true`, `alt=sse`).
    pub query: Option<String>,
    /// Lower-case header names; repeated headers joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON; a non-JSON body as a JSON string of its text; no body as `null`.
    pub body: Value,
    /// The requested model (body `model`, or the Gemini path segment).
    pub model: Option<String>,
    /// The working directory found in the body, used for `{cwd}`.
    pub cwd: Option<String>,
    /// The status the mock answers with.
    pub status: u16,
    /// True if the family's queue was empty and the default `done` turn was used.
    pub script_exhausted: bool,
}

struct Inner {
    script: Script,
    requests: Vec<Recorded>,
}

struct Shared {
    inner: Mutex<Inner>,
    notify: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running mock; dropping it stops the server.
pub struct MockModel {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl MockModel {
    /// Serves `script` on a free port of 127.0.0.1.
    pub async fn start(script: Script) -> anyhow::Result<MockModel> {
        MockModel::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), script).await
    }

    /// Serves `script` on `addr` (port 0: any free port).
    pub async fn start_on(addr: SocketAddr, script: Script) -> anyhow::Result<MockModel> {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared { inner: Mutex::new(Inner { script, requests: Vec::new() }), notify: Notify::new() });
        let app = Router::new().fallback(handle).layer(DefaultBodyLimit::disable()).with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("mock model server stopped: {e}");
            }
        });
        Ok(MockModel { url: format!("http://{addr}"), addr, shared, server })
    }

    /// For `ANTHROPIC_BASE_URL` and `GOOGLE_GEMINI_BASE_URL`: the bare URL.
    pub fn base_url(&self) -> String {
        self.url.clone()
    }

    /// For Codex's `model_providers.X.base_url`: the URL plus `/v1`.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Appends a turn to a family's queue while running.
    pub fn push(&self, family: Family, turn: Turn) {
        self.shared.lock().script.push(family, turn);
    }

    /// How many scripted turns of a family are still queued.
    pub fn remaining(&self, family: Family) -> usize {
        self.shared.lock().script.queue(family).len()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The model calls (`Kind::Model`) of one family so far, in arrival order.
    pub fn requests_for(&self, family: Family) -> Vec<Recorded> {
        model_calls(&self.shared.lock().requests, family)
    }

    /// Waits until at least `n` requests (of any kind) have arrived; returns them all.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<Recorded>> {
        self.wait_until(timeout, |r| r.len() >= n).await.with_context(|| format!("waiting for {n} requests"))
    }

    /// Waits until at least `n` model calls of `family` have arrived; returns those calls.
    pub async fn wait_for_requests_for(&self, family: Family, n: usize, timeout: Duration) -> anyhow::Result<Vec<Recorded>> {
        let all = self.wait_until(timeout, |r| model_calls(r, family).len() >= n).await;
        Ok(model_calls(&all.with_context(|| format!("waiting for {n} {family:?} model calls"))?, family))
    }

    /// Waits (woken by each new request, no polling) until `done` holds for the requests.
    async fn wait_until(&self, timeout: Duration, done: impl Fn(&[Recorded]) -> bool) -> anyhow::Result<Vec<Recorded>> {
        let deadline = Instant::now() + timeout.min(Duration::from_secs(1 << 32));
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let inner = self.shared.lock();
                if done(&inner.requests) {
                    return Ok(inner.requests.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
                bail!("timed out after {timeout:?}; requests so far: {seen:?}");
            }
        }
    }
}

impl Drop for MockModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn model_calls(requests: &[Recorded], family: Family) -> Vec<Recorded> {
    requests.iter().filter(|r| r.kind == Kind::Model && r.family == Some(family)).cloned().collect()
}

/// The kind and family of a request from its method and path, plus the model named in a
/// Gemini path; `None` for anything the mock does not serve.
fn route(method: &Method, path: &str) -> Option<(Kind, Family, Option<String>)> {
    if method != Method::POST {
        return None;
    }
    let path = path.trim_end_matches('/');
    let gemini = path.strip_prefix("/v1beta/models/").and_then(|r| r.rsplit_once(':'));
    let (model, action) = gemini.map_or((None, path), |(m, a)| (Some(m.to_string()), a));
    let (kind, family) = match action {
        "/v1/messages" => (Kind::Model, Family::Anthropic),
        "/v1/messages/count_tokens" => (Kind::CountTokens, Family::Anthropic),
        "/v1/responses" => (Kind::Model, Family::OpenAi),
        "/v1/chat/completions" => (Kind::Model, Family::Chat),
        "streamGenerateContent" => (Kind::Model, Family::Gemini),
        "generateContent" => (Kind::Model, Family::GeminiSide),
        "countTokens" => (Kind::CountTokens, Family::Gemini),
        _ => return None,
    };
    Some((kind, family, model))
}

/// The one handler: records the request (popping its turn), then answers it.
async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let body = match serde_json::from_str::<Value>(&text) {
        Ok(value) => value,
        Err(_) if text.trim().is_empty() => Value::Null,
        Err(_) => Value::String(text.into_owned()),
    };
    let mut header_map = BTreeMap::<String, String>::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let entry = header_map.entry(name.as_str().to_string());
        entry.and_modify(|v| *v = format!("{v}, {value}")).or_insert(value);
    }
    if method == Method::GET && uri.path().trim_end_matches('/') == "/v1/models" {
        return json_response(200, json!({ "object": "list", "data": [{ "id": "mock-model", "object": "model", "owned_by": "bosun" }] }));
    }
    let route = route(&method, uri.path());
    let (kind, family) = route.as_ref().map_or((Kind::NotFound, None), |(k, f, _)| (*k, Some(*f)));
    let body_model = body.get("model").and_then(Value::as_str).map(str::to_string);
    let mut r = Recorded {
        seq: 0,
        family,
        kind,
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: header_map,
        model: route.and_then(|(_, _, m)| m).or(body_model),
        cwd: wire::find_cwd(&body),
        body,
        status: if kind == Kind::NotFound { 404 } else { 200 },
        script_exhausted: false,
    };
    let turn = {
        let mut inner = shared.lock();
        r.seq = inner.requests.len();
        let turn = match (kind, family) {
            (Kind::Model, Some(family)) => {
                let popped = inner.script.queue(family).pop_front();
                r.script_exhausted = popped.is_none();
                let turn = popped.unwrap_or_else(|| Turn::text("done"));
                r.status = turn.http_status.unwrap_or(200);
                turn
            }
            _ => Turn::default(),
        };
        tracing::debug!(seq = r.seq, method = %r.method, path = %r.path, status = r.status, exhausted = r.script_exhausted);
        inner.requests.push(r.clone());
        turn
    };
    shared.notify.notify_waiters();

    let (Kind::Model, Some(family)) = (kind, family) else {
        return match family {
            Some(Family::Anthropic) => json_response(200, json!({ "input_tokens": 10 })),
            Some(_) => json_response(200, json!({ "totalTokens": 10 })),
            None => json_response(404, wire::error_body(None, 404, &format!("no route for {} {}", r.method, r.path))),
        };
    };
    if turn.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(turn.delay_ms)).await;
    }
    if let Some(status) = turn.http_status {
        let message = format!("scripted HTTP {status}");
        let mut response = json_response(status, wire::error_body(Some(family), status, &message));
        if let Some(secs) = turn.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        return response;
    }
    let turn = wire::substitute_cwd(&turn, r.cwd.as_deref());
    let ctx = wire::Ctx { seq: r.seq, model: r.model.unwrap_or_else(|| "mock-model".to_string()) };
    let stream = r.body.get("stream") == Some(&Value::Bool(true));
    let pause = Duration::from_millis(turn.chunk_delay_ms);
    match (family, stream) {
        (Family::Anthropic, true) => sse_response(wire::anthropic_sse(&turn, &ctx), pause),
        (Family::Anthropic, false) => json_response(200, wire::anthropic_json(&turn, &ctx)),
        (Family::OpenAi, _) => sse_response(wire::openai_sse(&turn, &ctx), pause),
        (Family::Chat, _) => sse_response(wire::chat_sse(&turn, &ctx), pause),
        (Family::Gemini, _) => sse_response(wire::gemini_sse(&turn, &ctx), pause),
        (Family::GeminiSide, _) => json_response(200, wire::gemini_json(&turn, &ctx)),
    }
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// A `text/event-stream` body sent event by event (chunked, like the real APIs),
/// `pause` between two events.
fn sse_response(events: Vec<String>, pause: Duration) -> Response {
    use futures_util::StreamExt;
    let stream = futures_util::stream::iter(events.into_iter().enumerate()).then(move |(i, e)| async move {
        if i > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Ok::<_, Infallible>(e)
    });
    let headers = [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")];
    (headers, Body::from_stream(stream)).into_response()
}
