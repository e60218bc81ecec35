//! Wire types of notifications: channels (`/api/notify/channels`), the test message
//! (`/api/notify/test`), Web Push (`/api/push/key`, `/api/push/subscriptions`) and the
//! action-link page's answer.

pub use bosun_core::notify::Channel;
use bosun_core::notify::ChannelKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/notify/channels`: a channel to add. Secrets are never sent: only the
/// *name* of the daemon's environment variable that holds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannelRequest {
    pub kind: ChannelKind,
    /// ntfy: the topic URL; webhook: where to POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ntfy: the env var holding the access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// ntfy without `token_env`, taking asks: accepted only with this set (anyone who
    /// can read the topic can press its Approve/Deny links).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_topic_ok: bool,
    /// webhook: the env var holding the HMAC secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// A name to show (default: the kind and the URL's host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Event kinds (`needs_input`, `review`, `failed`, `merged`); empty: all.
    #[serde(default)]
    pub events: Vec<String>,
    /// Only tasks of these repos (paths); empty: any.
    #[serde(default)]
    pub repos: Vec<String>,
    /// Only tasks of these agent profiles; empty: any.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Quiet hours, `HH:MM-HH:MM` in the daemon's local time: held until they end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<String>,
}

/// `POST /api/notify/test`: how the test message went, per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestResult {
    pub channel: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub ok: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /api/push/key`: bosun's VAPID public key (base64url), for
/// `PushManager.subscribe({applicationServerKey})`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushKey {
    pub key: String,
}

/// A subscription's keys, as `PushSubscription.toJSON()` gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `POST /api/push/subscriptions`: this browser subscribes (the body is
/// `PushSubscription.toJSON()`, plus an optional label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushSubscribeRequest {
    pub endpoint: String,
    pub keys: PushKeys,
    #[serde(default, rename = "expirationTime", skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `DELETE /api/push/subscriptions`: this browser unsubscribes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushUnsubscribeRequest {
    pub endpoint: String,
}

/// A subscription as stored (its keys are not served back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushSubscribed {
    pub id: i64,
    pub endpoint: String,
    pub label: Option<String>,
}
