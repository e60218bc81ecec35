//! The HTTP client a source talks through: one per source, keeping its requests to the
//! service's rate (a token bucket: Notion allows about 3 a second on average, with bursts), waiting out `Retry-After` on 429
//! (and Notion's 529, GitHub's secondary limits on 403 with `Retry-After`), backing
//! off on 5xx and network errors, and turning what is left into a [`SourceError`]
//! that says whose fault it is, without the token or the raw transport error.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Attempts per request before its failure is reported.
const ATTEMPTS: u32 = 4;
/// The longest `Retry-After` waited inside one request (a longer one fails the sync,
/// which runs again on its interval).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Why a source could not be read or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The token is missing, wrong or lacks a permission.
    #[error("{service} refused the token: {message}")]
    Unauthorized { service: &'static str, message: String },
    #[error("{service}: {what} was not found ({message})")]
    NotFound { service: &'static str, what: String, message: String },
    /// The settings do not fit what the service has (a property missing or of the wrong type).
    #[error("{0}")]
    Setup(String),
    #[error("cannot reach {service} at {api}: {reason}")]
    Unreachable { service: &'static str, api: String, reason: String },
    #[error("{service} is limiting requests: try again later")]
    RateLimited { service: &'static str },
    #[error("{service} answered {status}: {message}")]
    Api { service: &'static str, status: u16, message: String },
    #[error("unexpected answer from {service}: {message}")]
    Decode { service: &'static str, message: String },
}

impl SourceError {
    /// Whether trying again later may work (as opposed to a setup a person must fix).
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Unreachable { .. } | SourceError::RateLimited { .. })
            || matches!(self, SourceError::Api { status, .. } if *status >= 500)
    }
}

/// One source's client.
pub struct Http {
    client: reqwest::Client,
    pub service: &'static str,
    pub base: String,
    /// A token bucket: `rate` requests a second on average, bursts of up to [`BURST`].
    rate: f64,
    bucket: Mutex<(f64, Instant)>,
}

/// Requests a source may make at once before its rate applies.
const BURST: f64 = 10.0;

impl Http {
    pub fn new(service: &'static str, base: &str, per_second: u32, headers: reqwest::header::HeaderMap) -> Http {
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("bosun/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("a TLS backend is compiled in");
        Http {
            client,
            service,
            base: base.trim_end_matches('/').to_string(),
            rate: f64::from(per_second.max(1)),
            bucket: Mutex::new((BURST, Instant::now())),
        }
    }

    /// A request to `path` (relative to the base), built anew for each attempt by `build`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Waits for this source's next request slot (a token from its bucket).
    async fn slot(&self) {
        let mut bucket = self.bucket.lock().await;
        let (tokens, at) = *bucket;
        let now = Instant::now();
        let tokens = (tokens + now.duration_since(at).as_secs_f64() * self.rate).min(BURST);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            return;
        }
        let wait = Duration::from_secs_f64((1.0 - tokens) / self.rate);
        tokio::time::sleep(wait).await;
        *bucket = (0.0, Instant::now());
    }

    /// Sends what `build` makes (again on a retryable failure); a 304 and every 2xx
    /// are answers, other statuses become errors. `what` names the thing asked about
    /// in a 404.
    pub async fn send(&self, what: &str, build: impl Fn() -> RequestBuilder) -> Result<Response, SourceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.slot().await;
            let last = attempt >= ATTEMPTS;
            let res = match build().send().await {
                Ok(res) => res,
                Err(e) if last => return Err(self.unreachable(&e)),
                Err(e) => {
                    tracing::debug!(service = self.service, "request failed, trying again: {}", self.unreachable(&e));
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let status = res.status();
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                return Ok(res);
            }
            let retry_after = retry_after(&res);
            let limited = status == StatusCode::TOO_MANY_REQUESTS
                || status.as_u16() == 529
                || (status == StatusCode::FORBIDDEN && retry_after.is_some());
            if limited {
                match retry_after {
                    _ if last => return Err(SourceError::RateLimited { service: self.service }),
                    Some(wait) if wait > MAX_RETRY_AFTER => return Err(SourceError::RateLimited { service: self.service }),
                    wait => {
                        tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt))).await;
                        continue;
                    }
                }
            }
            if status.is_server_error() && !last {
                tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(attempt)).min(MAX_RETRY_AFTER)).await;
                continue;
            }
            let message = message(res).await;
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SourceError::Unauthorized { service: self.service, message },
                StatusCode::NOT_FOUND => SourceError::NotFound { service: self.service, what: what.to_string(), message },
                _ => SourceError::Api { service: self.service, status: status.as_u16(), message },
            });
        }
    }

    /// Sends and reads a JSON answer.
    pub async fn json(&self, what: &str, build: impl Fn() -> RequestBuilder) -> Result<Value, SourceError> {
        let res = self.send(what, build).await?;
        res.json().await.map_err(|e| self.decode(e))
    }

    pub fn decode(&self, e: impl std::fmt::Display) -> SourceError {
        SourceError::Decode { service: self.service, message: e.to_string() }
    }

    fn unreachable(&self, e: &reqwest::Error) -> SourceError {
        let reason = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "connection refused or no route".to_string()
        } else {
            // The innermost cause, without the URL (which may carry a query).
            let mut cause: &dyn std::error::Error = e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            cause.to_string()
        };
        SourceError::Unreachable { service: self.service, api: self.base.clone(), reason }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.min(6))
}

fn retry_after(res: &Response) -> Option<Duration> {
    let v = res.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// The service's own message from an error body (`message`, with the messages of
/// `errors[]` after it, as GitHub's validation failures give them), else the status's
/// reason.
async fn message(res: Response) -> String {
    let status = res.status();
    let body: Option<Value> = res.json().await.ok();
    let details: Vec<&str> =
        body.as_ref().and_then(|b| b["errors"].as_array()).into_iter().flatten().filter_map(|e| e["message"].as_str()).collect();
    let text = match (body.as_ref().and_then(|b| b["message"].as_str()), details.is_empty()) {
        (Some(m), true) => m.to_string(),
        (Some(m), false) => format!("{m} ({})", details.join("; ")),
        (None, false) => details.join("; "),
        (None, true) => status.canonical_reason().unwrap_or("error").to_string(),
    };
    text.chars().take(300).collect()
}

/// A string field of a JSON object, or a decode error naming it.
pub fn str_field<'a>(http: &Http, v: &'a Value, key: &str) -> Result<&'a str, SourceError> {
    v[key].as_str().ok_or_else(|| http.decode(format!("no `{key}` in {}", truncate(v))))
}

fn truncate(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 { format!("{}…", s.chars().take(120).collect::<String>()) } else { s }
}

/// An RFC 3339 time field, or a decode error.
pub fn time_field(http: &Http, v: &Value, key: &str) -> Result<chrono::DateTime<chrono::Utc>, SourceError> {
    let s = str_field(http, v, key)?;
    chrono::DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&chrono::Utc)).map_err(|e| http.decode(format!("`{key}` {s:?}: {e}")))
}
