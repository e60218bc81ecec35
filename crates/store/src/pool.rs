//! The warm worktree pool's rows ([`PoolStore`], `Store::pool`): worktrees checked out
//! ahead of any task. Every change of an entry's state is a compare-and-set, and a
//! task's claim of one is a single transaction that also records the task's branch
//! and worktree, so an entry is never given to two tasks and never half-given.

use async_trait::async_trait;
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};

use crate::Result;

/// Where a pool entry is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolState {
    /// Being checked out (and its setup run); not to be taken.
    Making,
    /// Checked out at `head`, free for a task.
    Ready,
    /// Being moved to the base's new head; not to be taken.
    Refreshing,
    /// Taken by a task, being renamed and moved into place.
    Claimed,
}

impl PoolState {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolState::Making => "making",
            PoolState::Ready => "ready",
            PoolState::Refreshing => "refreshing",
            PoolState::Claimed => "claimed",
        }
    }

    pub fn parse(s: &str) -> Option<PoolState> {
        [PoolState::Making, PoolState::Ready, PoolState::Refreshing, PoolState::Claimed].into_iter().find(|p| p.as_str() == s)
    }
}

/// One pooled worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    pub id: i64,
    /// The repo's root.
    pub repo: String,
    /// The branch whose head it is checked out at.
    pub base: String,
    pub path: String,
    pub state: PoolState,
    /// The commit checked out (detached); None while being made.
    pub head: Option<String>,
    /// The repo's setup script ran in it.
    pub setup_ran: bool,
    /// The task that claimed it.
    pub task_id: Option<TaskId>,
}

/// What a task's claim records about it, with the entry it takes.
pub struct PoolClaim<'a> {
    pub task_id: TaskId,
    pub repo: &'a str,
    pub base: &'a str,
    /// The task's branch and worktree path (where the entry is moved).
    pub branch: &'a str,
    pub worktree: &'a str,
}

#[async_trait]
pub trait PoolStore: Send + Sync {
    /// Every entry, oldest first.
    async fn pool_entries(&self) -> Result<Vec<PoolEntry>>;
    /// A new entry for `repo`'s `base`, `making`, at `<dir>/<its id>`.
    async fn add_pool_entry(&self, repo: &str, base: &str, dir: &str, now: DateTime<Utc>) -> Result<PoolEntry>;
    /// Moves entry `id` from `from` to `to` (with its head and setup when given); false
    /// when it was not in `from` (someone else took or changed it).
    async fn set_pool_state(&self, id: i64, from: PoolState, to: PoolState, head: Option<&str>, setup_ran: Option<bool>) -> Result<bool>;
    /// The oldest ready entry of `repo`'s `base`, claimed for the task, and the task's
    /// branch and worktree recorded, in one transaction; None when none is ready (or
    /// the task has another workspace recorded).
    async fn claim_pool_entry(&self, claim: &PoolClaim<'_>, now: DateTime<Utc>) -> Result<Option<PoolEntry>>;
    async fn delete_pool_entry(&self, id: i64) -> Result<()>;
}
