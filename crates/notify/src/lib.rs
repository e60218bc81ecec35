//! bosun's notification channels: one [`Channel`] trait, one module per kind of
//! channel (`ntfy`, `webhook`, `webpush`), each turning an [`Outgoing`] message into the
//! request its receiver documents.
//!
//! Theory of operation: the engine's sender decides *what* goes *where* and *when*
//! (from the store's outbox and `core::notify`); this crate only knows how to say it
//! to a receiver. Every request carries the delivery's id, so a receiver that sees an
//! attempt twice (a crash between its answer and bosun recording it) can tell. A
//! failure is a [`SendError`] with a reason a human can read; it never carries a
//! secret (tokens and webhook secrets are read from the daemon's environment at send
//! time, by the variable's name the channel keeps).

pub mod ntfy;
pub mod webhook;
pub mod webpush;

use async_trait::async_trait;
use bosun_core::notify::{Message, NotifyKind, Subject};
use serde::Serialize;

/// One message to send, as every channel needs it.
#[derive(Debug, Clone, Serialize)]
pub struct Outgoing {
    /// The delivery's id (`bosun-d42`): the same on every attempt of it.
    pub delivery: String,
    /// `notification`, `digest` or `test`.
    pub kind: &'static str,
    pub message: Message,
    /// The absolute URL a tap opens.
    pub click_url: String,
    /// Buttons: Approve/Deny (single-use links) and Open.
    pub actions: Vec<Action>,
    /// What it is about (for receivers that want data, not text).
    pub items: Vec<Item>,
}

/// A notification a message covers.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: NotifyKind,
    pub subject: Subject,
}

/// A button on a notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// `approve`, `deny` or `open`.
    pub id: &'static str,
    pub label: String,
    pub url: String,
    /// POST for an action link; GET (a view) for open.
    pub post: bool,
}

/// A channel accepted the message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sent {
    /// Push subscriptions the push service says are gone (404/410): to forget.
    pub gone: Vec<String>,
    /// Push subscriptions that cannot be used (keys or URL that do not work), skipped:
    /// the endpoint as shown (no query) and why.
    pub unusable: Vec<(String, String)>,
}

/// Why a message did not get through, in words for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// The channel's settings cannot work (a missing env var, no subscriber).
    #[error("{0}")]
    Config(String),
    /// The receiver could not be reached.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The receiver answered with an error status.
    #[error("{url} answered {status}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Rejected { url: String, status: u16, detail: String },
}

#[async_trait]
pub trait Channel: Send + Sync {
    async fn send(&self, out: &Outgoing) -> Result<Sent, SendError>;
}

/// What the name of a channel's secret variable must start with: a channel sends its
/// secret to its URL, so only variables meant for that can be named (never, say, a
/// cloud key the daemon happens to have).
pub const SECRET_ENV_PREFIX: &str = "BOSUN_NOTIFY_";

/// The secret in environment variable `name`, named in the error when it is not set.
pub fn secret_from_env(name: &str) -> Result<String, SendError> {
    if !name.starts_with(SECRET_ENV_PREFIX) {
        return Err(SendError::Config(format!("{name} does not start with {SECRET_ENV_PREFIX}: bosun sends no other variable")));
    }
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(SendError::Config(format!("the environment variable {name} is not set in the daemon's environment"))),
    }
}

/// Sends a built request and maps its failure to words (the URL [`shown`] as scheme
/// and host).
pub(crate) async fn send(client: &reqwest::Client, req: reqwest::RequestBuilder, url: &str) -> Result<reqwest::Response, SendError> {
    let _ = client;
    let shown = shown(url);
    let resp = req.send().await.map_err(|e| SendError::Unreachable { url: shown.clone(), reason: reason_of(&e) })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    let detail: String = body.trim().chars().take(200).collect();
    Err(SendError::Rejected { url: shown, status: status.as_u16(), detail })
}

/// A URL as errors and a channel's last result show it: scheme and host only (a path
/// or query may hold a secret: an ntfy topic, a webhook token, a push endpoint's id).
pub fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
            (Some(host), None) => format!("{}://{host}", u.scheme()),
            _ => "a URL".into(),
        },
        Err(_) => "a URL".into(),
    }
}

/// A reqwest failure as a short reason (not its Debug, which names internals).
fn reason_of(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or no route".into()
    } else if e.is_builder() {
        "not a valid URL".into()
    } else {
        "the request failed".into()
    }
}

/// The HTTP client every channel uses: short timeouts, no redirects to elsewhere.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_is_shown_without_its_path_or_query() {
        assert_eq!(super::shown("https://ntfy.sh/secret-topic?auth=tok"), "https://ntfy.sh");
        assert_eq!(super::shown("http://127.0.0.1:8080/hook/abc"), "http://127.0.0.1:8080");
        assert_eq!(super::shown("not a url"), "a URL");
    }
}
