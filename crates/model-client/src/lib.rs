//! A streaming client of the model APIs, one module per wire format:
//! [`chat`] (OpenAI Chat Completions, what Ollama, llama.cpp, vLLM and OpenRouter
//! speak), [`anthropic`] (Messages), [`responses`] (OpenAI Responses) and [`gemini`]
//! (`streamGenerateContent`).
//!
//! # Theory of operation
//!
//! A conversation is held in one neutral shape ([`Item`]s: user text, the assistant's
//! text and tool calls, tool results). For each request a wire module renders it into
//! its vendor's JSON body, and a parser of that module reads the answer's SSE events
//! into a [`Reply`]: the text, the tool calls (their arguments assembled from however
//! many deltas they arrive in) and the usage. [`Client::send`] adds what every format
//! shares: the key in the vendor's header, retries with backoff on 429, 5xx and
//! "overloaded" (honouring `Retry-After`), and a clear [`ModelError`] after the last
//! attempt. Nothing here prints or knows about bosun's events.

pub mod anthropic;
pub mod chat;
pub mod gemini;
pub mod responses;
mod retry;

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use retry::{Retry, retry_after};

/// Which wire format a [`Client`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Chat,
    Anthropic,
    Responses,
    Gemini,
}

/// One entry of a conversation, in no vendor's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    User { text: String },
    Assistant { text: String, calls: Vec<ToolCall> },
    ToolResult { call_id: String, name: String, output: String, is_error: bool },
}

/// A tool call as the model made it; `arguments` is its JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    /// The arguments as JSON (an empty text is `{}`); an error names what is wrong.
    pub fn input(&self) -> Result<Value, String> {
        if self.arguments.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_str(&self.arguments).map_err(|e| format!("the arguments are not valid JSON ({e})"))
    }
}

/// A tool the model may call: its JSON Schema parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// What one model request asks.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub model: &'a str,
    pub system: &'a str,
    pub items: &'a [Item],
    pub tools: &'a [ToolSpec],
    pub max_tokens: u32,
}

/// Tokens one request used, as its API reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
}

/// The model's answer to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    pub calls: Vec<ToolCall>,
    pub usage: Usage,
}

/// What happens while a request is under way, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A piece of the answer's text.
    Text(String),
    /// The attempt failed with `why`; the next starts after `wait`.
    Retrying { attempt: u32, why: String, wait: Duration },
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot reach the model API at {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("the model API answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("the model API failed {attempts} times, last: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("the model's answer could not be read: {0}")]
    Stream(String),
}

/// What a parser makes of one SSE event.
pub(crate) enum Step {
    /// Text to show (maybe empty).
    Text(String),
    /// The answer is complete.
    Done,
    /// The API reported an error in the stream; true if it is worth retrying (overloaded).
    Failed(String, bool),
}

/// Reads one wire format's SSE events into a [`Reply`].
pub(crate) trait Parse: Send {
    fn event(&mut self, event: &str, data: &str) -> Step;
    fn finish(self: Box<Self>) -> Result<Reply, ModelError>;
}

/// A model API at a base URL, with its key.
pub struct Client {
    http: reqwest::Client,
    wire: Wire,
    base_url: String,
    key: Option<String>,
    pub retry: Retry,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = self.key.as_ref().map(|_| "<redacted>");
        f.debug_struct("Client").field("wire", &self.wire).field("base_url", &self.base_url).field("key", &key).finish()
    }
}

/// An answer that may take this long between two reads before it counts as lost.
const READ_TIMEOUT: Duration = Duration::from_secs(300);

impl Client {
    /// `base_url` with its version segment (`https://api.openai.com/v1`).
    pub fn new(wire: Wire, base_url: &str, key: Option<String>) -> Result<Client, ModelError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(READ_TIMEOUT)
            .build()
            .map_err(|e| ModelError::Unreachable { url: base_url.into(), why: e.to_string() })?;
        Ok(Client { http, wire, base_url: base_url.trim_end_matches('/').to_string(), key, retry: Retry::default() })
    }

    /// The request's URL, headers and JSON body in this client's wire format.
    fn render(&self, req: &Request<'_>) -> (String, Vec<(&'static str, String)>, Value) {
        let key = self.key.clone();
        match self.wire {
            Wire::Chat => (format!("{}/chat/completions", self.base_url), chat::headers(key), chat::body(req)),
            Wire::Anthropic => (format!("{}/messages", self.base_url), anthropic::headers(key), anthropic::body(req)),
            Wire::Responses => (format!("{}/responses", self.base_url), responses::headers(key), responses::body(req)),
            Wire::Gemini => {
                (format!("{}/models/{}:streamGenerateContent?alt=sse", self.base_url, req.model), gemini::headers(key), gemini::body(req))
            }
        }
    }

    fn parser(&self) -> Box<dyn Parse> {
        match self.wire {
            Wire::Chat => Box::new(chat::Parser::default()),
            Wire::Anthropic => Box::new(anthropic::Parser::default()),
            Wire::Responses => Box::new(responses::Parser::default()),
            Wire::Gemini => Box::new(gemini::Parser::default()),
        }
    }

    /// Sends one request and streams its answer, retrying what is worth retrying.
    /// `progress` sees the text as it comes and each retry.
    pub async fn send(&self, req: &Request<'_>, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<Reply, ModelError> {
        let (url, headers, body) = self.render(req);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (why, after) = match self.attempt(&url, &headers, &body, progress).await {
                Ok(reply) => return Ok(reply),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retryable { why, after }) => (why, after),
            };
            if attempt >= self.retry.attempts {
                return Err(ModelError::GaveUp { attempts: attempt, last: why });
            }
            let wait = after.unwrap_or_else(|| self.retry.backoff(attempt)).min(self.retry.max_wait);
            progress(Progress::Retrying { attempt, why, wait });
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &Value,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Reply, Attempt> {
        let mut request = self.http.post(url).json(body).header("accept", "text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let shown = redact(url);
        let response = request.send().await.map_err(|e| {
            let why = format!("cannot reach {shown}: {}", root_cause(&e));
            if e.is_connect() || e.is_timeout() {
                Attempt::Retryable { why, after: None }
            } else {
                Attempt::Fatal(ModelError::Unreachable { url: shown.clone(), why: root_cause(&e) })
            }
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            let after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(retry_after);
            let text = response.text().await.unwrap_or_default();
            let message = error_message(&text);
            return Err(if retry::retryable(status) {
                Attempt::Retryable { why: format!("HTTP {status}: {message}"), after }
            } else {
                Attempt::Fatal(ModelError::Api { status, message })
            });
        }
        let mut parser = self.parser();
        let mut events = eventsource_stream::EventStream::new(response.bytes_stream());
        let mut shown_text = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| {
                let why = format!("the answer broke off: {e}");
                if shown_text { Attempt::Fatal(ModelError::Stream(why)) } else { Attempt::Retryable { why, after: None } }
            })?;
            match parser.event(&event.event, &event.data) {
                Step::Text(t) if !t.is_empty() => {
                    shown_text = true;
                    progress(Progress::Text(t));
                }
                Step::Text(_) => {}
                Step::Done => break,
                Step::Failed(why, retry) if retry && !shown_text => return Err(Attempt::Retryable { why, after: None }),
                Step::Failed(why, _) => return Err(Attempt::Fatal(ModelError::Stream(why))),
            }
        }
        parser.finish().map_err(Attempt::Fatal)
    }
}

/// How one attempt failed.
enum Attempt {
    Retryable { why: String, after: Option<Duration> },
    Fatal(ModelError),
}

/// The URL without its query (Gemini keys may ride there).
fn redact(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// The innermost cause of a reqwest error (its own text names only the URL).
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

/// The message of an API's JSON error body (every vendor nests it under `error`), else
/// the body's first line, cut short.
pub(crate) fn error_message(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let found = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message").or_else(|| v.get("message")).or_else(|| v.get("error")).and_then(Value::as_str).map(str::to_string)
    });
    let message = found.unwrap_or_else(|| text.lines().next().unwrap_or("").to_string());
    let message: String = message.chars().take(300).collect();
    if message.trim().is_empty() { "no message".into() } else { message }
}

/// Tool calls in the order their index says, with their argument pieces joined.
#[derive(Default)]
pub(crate) struct Calls {
    calls: Vec<(u64, ToolCall)>,
}

impl Calls {
    /// The call at `index`, made on first sight.
    pub(crate) fn at(&mut self, index: u64) -> &mut ToolCall {
        let at = match self.calls.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                self.calls.push((index, ToolCall { id: String::new(), name: String::new(), arguments: String::new() }));
                self.calls.len() - 1
            }
        };
        &mut self.calls[at].1
    }

    /// The calls; one without an id gets `call_<n>`.
    pub(crate) fn done(mut self) -> Vec<ToolCall> {
        self.calls.sort_by_key(|(i, _)| *i);
        let calls = self.calls.into_iter().map(|(_, c)| c).enumerate();
        calls
            .map(|(n, mut c)| {
                if c.id.is_empty() {
                    c.id = format!("call_{n}");
                }
                c
            })
            .collect()
    }
}

/// A u64 field of a JSON value, 0 when absent.
pub(crate) fn count(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}
