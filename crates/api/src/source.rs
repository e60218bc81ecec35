//! Wire types of task sources (`/api/sources`): a source to add, and what a sync did.

pub use bosun_core::source::Source;
use bosun_core::source::SourceKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/sources`: a source to watch. Tokens are never sent: only the *name* of
/// the daemon's environment variable holding one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceRequest {
    pub kind: Option<SourceKind>,
    /// Notion: the database's id or URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// GitHub: `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_repo: Option<String>,
    /// Linear: the team's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// GitHub and Linear: the label that makes an issue a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// GitHub: only issues assigned to this login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The daemon's environment variable holding the token (GitHub: default as for `bosun pr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// The repo its tasks run in when an item names none (an absolute path; none: scratch tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Notion: the properties read (defaults `Status`, and none for the others) and the ready value (`Ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_property: Option<String>,
    /// Notion: a people property naming the task's assignee (for routing rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_property: Option<String>,
    /// Linear: also the issues delegated to the token's (app) user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegated: Option<bool>,
    /// Take webhooks (`POST /hooks/sources/{id}`): Notion's verification token is
    /// then kept as the signing secret when Notion sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<bool>,
    /// Take webhooks signed with the secret in this daemon environment variable
    /// (GitHub's webhook secret, Linear's signing secret, Notion's verification token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_env: Option<String>,
    /// Seconds between polls (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// The API base instead of the service's public one (a proxy, GitHub Enterprise, a test server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

/// `GET /api/sources/{id}/verification-token`: the token Notion sent when its webhook
/// subscription was made, to paste into Notion's integration settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerificationToken {
    pub token: String,
}

/// `POST /api/sources/{id}/sync`: what the sync did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncResult {
    pub source: Source,
    /// Items read.
    pub seen: i64,
    /// Tasks made.
    pub created: Vec<i64>,
}
