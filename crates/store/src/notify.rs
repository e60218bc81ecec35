//! The notification side of the store ([`NotifyStore`], reached by
//! [`Store::notify`](crate::Store::notify)): channels, the outbox the task
//! transitions write, the deliveries that carry it out, action links and Web Push
//! subscriptions.
//!
//! The life of a notification: a transition that notifies (`core::notify::on_transition`)
//! writes its row in the same transaction as the status; [`NotifyStore::fan_out`] queues
//! it for every channel whose filter takes it; the sender groups a channel's queued
//! ones into one delivery ([`NotifyStore::create_delivery`]: a single message or a
//! digest), sends it, and records the outcome. A delivery is marked sent only after the
//! channel accepted it, and its id goes with every attempt, so a crash repeats at most
//! an attempt the receiver can recognise.

use async_trait::async_trait;
pub use bosun_core::notify::Channel;
use bosun_core::notify::{ChannelKind, Filter, NotifyKind, QuietHours, Subject};
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Result;

/// A channel to add.
#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    /// The channel's settings (URL, the names of env vars holding secrets).
    pub config: serde_json::Value,
    pub filter: Filter,
    pub quiet: Option<QuietHours>,
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub kind: NotifyKind,
    pub subject: Subject,
    pub created_at: DateTime<Utc>,
}

/// A notification queued for a channel and not yet in a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub channel_id: i64,
    pub notification_id: i64,
    /// An ask (needs_input) is never folded into a digest: its buttons go with it.
    pub kind: NotifyKind,
    pub created_at: DateTime<Utc>,
}

/// A delivery due to be attempted: the channel and what it carries.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub channel: Channel,
    pub items: Vec<Notification>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// An Approve/Deny button's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkVerb {
    Approve,
    Deny,
}

impl LinkVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkVerb::Approve => "approve",
            LinkVerb::Deny => "deny",
        }
    }
}

/// A stored action link (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionLink {
    pub approval_id: i64,
    pub task_id: TaskId,
    pub verb: LinkVerb,
    /// The channel it was sent to.
    pub channel: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Why an action link does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this link is not known (or was never valid)")]
    Unknown,
    #[error("this link was already used")]
    Used,
    #[error("this link has expired")]
    Expired,
    #[error("the question was already answered")]
    Answered,
}

/// A browser's push subscription (what `PushManager.subscribe` returns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushSubscription {
    pub id: i64,
    pub endpoint: String,
    /// base64url P-256 public key of the browser.
    pub p256dh: String,
    /// base64url 16-byte auth secret.
    pub auth: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// A notification that goes with no transition (a budget 80 % spent), written to
    /// the outbox now.
    async fn notify_task(&self, task_id: TaskId, kind: NotifyKind, reason: &str, now: DateTime<Utc>) -> Result<()>;
    async fn add_channel(&self, channel: NewChannel, now: DateTime<Utc>) -> Result<Channel>;
    async fn channels(&self) -> Result<Vec<Channel>>;
    /// Removes a channel and what was queued for it ([`crate::StoreError::ChannelNotFound`]).
    async fn delete_channel(&self, id: i64) -> Result<Channel>;
    /// Records how the last attempt to reach a channel went ("ok" or the reason).
    async fn set_channel_result(&self, id: i64, result: &str, now: DateTime<Utc>) -> Result<()>;

    /// Queues each new outbox row for every channel whose filter takes it, in one
    /// transaction; returns how many rows it queued.
    async fn fan_out(&self) -> Result<usize>;
    /// What is queued and not yet in a delivery, oldest first.
    async fn queued(&self) -> Result<Vec<Queued>>;
    /// A delivery to `channel_id` of those `notifications` still unbatched; None if
    /// none of them is (another sender took them).
    async fn create_delivery(&self, channel_id: i64, notifications: &[i64], now: DateTime<Utc>) -> Result<Option<i64>>;
    /// Pending deliveries whose next attempt is due by `now`, oldest first.
    async fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>>;
    /// Takes delivery `id` for one attempt (compare-and-set `pending` → `sending`, if
    /// due by `now`); false if another attempt has it or it is no longer due.
    async fn claim_delivery(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// At start-up: what a previous daemon was sending when it stopped goes again.
    async fn release_claims(&self) -> Result<u64>;
    /// When the next pending delivery is due, if any is pending.
    async fn next_attempt(&self) -> Result<Option<DateTime<Utc>>>;
    /// The channel accepted delivery `id`.
    async fn delivery_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Nothing is left to say (every ask it was about got its answer while it was
    /// held): it is not sent, and the channel's last result stays as it was.
    async fn delivery_skipped(&self, id: i64, why: &str) -> Result<()>;
    /// An attempt failed: try again at `retry_at`, or (None) give up.
    async fn delivery_failed(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()>;

    /// Forgets what ended before `before`: action links that expired, deliveries
    /// sent, skipped or given up on (with their queue rows), and the notifications
    /// no queue row needs any more. Returns how many rows went.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Stores a link; one already stored under that hash stays as it was (a retry).
    async fn add_action_link(
        &self,
        hash: &[u8],
        approval_id: i64,
        verb: LinkVerb,
        channel: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The link with this hash, if it is still usable (the confirmation page).
    async fn action_link(&self, hash: &[u8], now: DateTime<Utc>) -> Result<std::result::Result<ActionLink, LinkRefusal>>;
    /// Uses the link, once: compare-and-set on it being unused, unexpired and its ask
    /// still pending.
    async fn use_action_link(&self, hash: &[u8], now: DateTime<Utc>) -> Result<std::result::Result<ActionLink, LinkRefusal>>;

    /// Adds (or renews, by endpoint) a browser's subscription, made by `credential`
    /// (revoking that credential deletes it).
    async fn add_push_subscription(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        label: Option<&str>,
        credential: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<PushSubscription>;
    async fn push_subscriptions(&self) -> Result<Vec<PushSubscription>>;
    /// Forgets a subscription (only `owner`'s, when given); false if there was none.
    async fn delete_push_subscription(&self, endpoint: &str, owner: Option<i64>) -> Result<bool>;
}
