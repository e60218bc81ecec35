//! Task sources behind one trait, [`Connector`]: read the items that changed since a
//! mark, one item as it is now, its comments; write its state and comments back. One
//! module per service ([`notion`], [`github`], [`linear`]), [`webhook`] reads what
//! their webhooks deliver, and [`pulls`] is GitHub's pull requests for `bosun pr`;
//! [`http`] is the client
//! they share (a request rate per source, `Retry-After` honoured on 429/529,
//! backoff on server errors and network failures). Nothing here knows the store: the
//! engine keeps marks and links, and decides what to do with what a connector reads.

pub mod github;
pub mod http;
pub mod linear;
pub mod notion;
pub mod pulls;
pub mod webhook;

use async_trait::async_trait;
use bosun_core::source::{Comment, Item, Phase, Written};

pub use http::SourceError;

/// What a connector keeps between syncs: the service's "changed since" mark, and its
/// own state (a resolved id, an ETag, its own user's id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mark {
    pub cursor: Option<String>,
    pub state: serde_json::Value,
}

#[async_trait]
pub trait Connector: Send + Sync {
    /// Checks the token and the settings (the named properties exist with the right
    /// types, the team or repo exists): refused at `source add`, not at the first sync.
    async fn check(&self) -> Result<(), SourceError>;
    /// The items changed since `mark` that may ask for a task (their body not read:
    /// see [`Connector::body`]), and the next mark.
    async fn changed(&self, mark: &Mark) -> Result<(Vec<Item>, Mark), SourceError>;
    /// One item as it is now; None when it is gone (deleted, or no longer visible).
    async fn item(&self, id: &str) -> Result<Option<Item>, SourceError>;
    /// The item's body as Markdown (read only for an item about to become a task).
    async fn body(&self, item: &Item) -> Result<String, SourceError> {
        Ok(item.body.clone())
    }
    /// Shows `phase` on the item; what it now shows, with its edit time after the write.
    async fn set_phase(&self, item: &Item, phase: Phase) -> Result<Written, SourceError>;
    /// Posts a comment; its id.
    async fn comment(&self, id: &str, markdown: &str) -> Result<String, SourceError>;
    /// bosun's status note: edited in place where the service allows it (`existing`),
    /// else a new comment. Its id.
    async fn status_note(&self, id: &str, existing: Option<&str>, markdown: &str) -> Result<String, SourceError> {
        let _ = existing;
        self.comment(id, markdown).await
    }
    /// The comments after the cursor `after` (see [`comment_cursor`]; None: all), oldest first.
    async fn comments(&self, id: &str, after: Option<&str>) -> Result<Vec<Comment>, SourceError>;
}

/// A comment cursor: the newest comment seen, as `<created_at>#<id>`.
pub fn comment_cursor(c: &Comment) -> String {
    format!("{}#{}", c.created_at.to_rfc3339(), c.id)
}

/// The comments after the cursor (all when None), for services that list comments
/// without a "since": after the cursor's comment, or, if that one was deleted, those
/// made after its time.
pub(crate) fn after_cursor(all: Vec<Comment>, after: Option<&str>) -> Vec<Comment> {
    let Some((at, id)) = after.and_then(|a| a.split_once('#')) else { return all };
    if let Some(i) = all.iter().position(|c| c.id == id) {
        return all.into_iter().skip(i + 1).collect();
    }
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(at) => all.into_iter().filter(|c| c.created_at > at).collect(),
        Err(_) => all,
    }
}
