//! The task-source side of the store ([`SourceStore`], reached by
//! [`Store::sources`](crate::Store::sources)): sources and their sync results, the
//! link from each external item to the one task made of it, and the queue of what
//! bosun writes back.
//!
//! An item becomes a task in one transaction with its link ([`SourceStore::create_linked`]);
//! the link is unique per (source, item), so a second attempt (a webhook racing a
//! poll, a re-sync after a crash) finds the first task instead. A task transition
//! that changes what its item should show queues a write in the transition's own
//! transaction; the writer marks it done only after the service took it.

use async_trait::async_trait;
use bosun_core::Task;
use bosun_core::source::{Phase, Source, SourceConfig, Written};
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};

use crate::{Result, TaskRecord};

/// A source to add.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub config: SourceConfig,
    pub repo: Option<String>,
    pub interval_secs: u64,
    pub api: Option<String>,
    /// Takes webhooks: signed with the secret in this variable (None: Notion's
    /// verification token, kept when it comes).
    pub webhook: Option<Option<String>>,
}

/// What a sync left for the next one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncMark {
    /// The service's "changed since" mark.
    pub cursor: Option<String>,
    /// What the connector keeps (a resolved id, an ETag, its own user).
    pub state: serde_json::Value,
}

/// The link from a task to the item it was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub task_id: TaskId,
    pub source_id: i64,
    pub external_id: String,
    pub url: String,
    pub reference: String,
    pub written: Written,
    pub comment_cursor: Option<String>,
    pub status_comment: Option<String>,
}

/// A link to make with its task.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub source_id: i64,
    pub external_id: String,
    pub url: String,
    pub reference: String,
    pub written: Written,
}

/// What [`SourceStore::create_linked`] did.
#[derive(Debug, Clone)]
pub enum Linked {
    Created(Box<Task>),
    /// The item is a task already.
    Exists(TaskId),
}

/// A write-back due.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceWrite {
    pub id: i64,
    pub task_id: TaskId,
    /// The source of the task's item (writes of one source go in order, each source on its own).
    pub source_id: i64,
    pub phase: Phase,
    pub attempts: u32,
}

#[async_trait]
pub trait SourceStore: Send + Sync {
    async fn add_source(&self, new: NewSource, now: DateTime<Utc>) -> Result<Source>;
    /// The sources being watched.
    async fn sources(&self) -> Result<Vec<Source>>;
    async fn source(&self, id: i64) -> Result<Source>;
    /// Stops watching: the source is gone from lists; its tasks and links stay.
    async fn remove_source(&self, id: i64, now: DateTime<Utc>) -> Result<Source>;
    async fn sync_mark(&self, id: i64) -> Result<SyncMark>;
    /// The verification token Notion sent for the source's webhook, if it came.
    async fn hook_token(&self, id: i64) -> Result<Option<String>>;
    /// Keeps Notion's verification token, unless a signed delivery already proved the
    /// one kept (then a second token is not taken: false).
    async fn set_hook_token(&self, id: i64, token: &str) -> Result<bool>;
    /// A delivery's signature held.
    async fn record_hook(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// A sync's outcome: the new mark (None: keep the old one, the sync failed), how
    /// many items it read, and what went wrong (None clears the last error).
    async fn record_sync(&self, id: i64, mark: Option<&SyncMark>, seen: i64, error: Option<&str>, now: DateTime<Utc>) -> Result<()>;
    /// The task already made of this item, if any.
    async fn linked(&self, source_id: i64, external_id: &str) -> Result<Option<TaskId>>;
    /// Creates the task and its link in one transaction, and queues the first write
    /// (`in progress`); or finds the task already made of this item.
    async fn create_linked(&self, task: TaskRecord, link: NewLink, now: DateTime<Utc>) -> Result<Linked>;
    async fn link(&self, task: TaskId) -> Result<Option<Link>>;
    /// The source's links whose tasks a sync follows (queued, blocked, running, needs
    /// input: a person's move stops them; running to review: a comment reaches the
    /// agent), with the task.
    async fn open_links(&self, source_id: i64) -> Result<Vec<(Link, Task)>>;
    async fn set_written(&self, task: TaskId, written: &Written) -> Result<()>;
    async fn set_comment_cursor(&self, task: TaskId, cursor: &str) -> Result<()>;
    async fn set_status_comment(&self, task: TaskId, id: &str) -> Result<()>;
    /// Writes due at `now`, oldest first.
    async fn due_writes(&self, now: DateTime<Utc>) -> Result<Vec<SourceWrite>>;
    /// When the next write not yet due is.
    async fn next_write_at(&self) -> Result<Option<DateTime<Utc>>>;
    async fn finish_write(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// A failed attempt: tried again at `next_at`, or given up (`next_at` None).
    async fn retry_write(&self, id: i64, error: &str, next_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()>;
}
