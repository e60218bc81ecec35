//! Permission asks: what an agent asked to do, and how it was answered. Shared by the
//! store (which keeps them), the engine (which holds them for a human) and the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ToolKind;
use crate::task::{RunId, TaskId};

/// Where an ask stands. Only `Pending` can be answered, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Allowed,
    Denied,
    /// Its run ended before anyone answered.
    Expired,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Allowed => "allowed",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalStatus> {
        [ApprovalStatus::Pending, ApprovalStatus::Allowed, ApprovalStatus::Denied, ApprovalStatus::Expired]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A permission ask as the supervisor records it.
#[derive(Debug, Clone)]
pub struct NewApproval {
    pub task_id: TaskId,
    pub run_id: RunId,
    pub request_id: String,
    pub tool: String,
    pub kind: Option<ToolKind>,
    pub command: Option<String>,
    pub path: Option<String>,
    pub input: Option<serde_json::Value>,
}

/// A permission ask, pending or answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub id: i64,
    pub task_id: TaskId,
    pub run_id: RunId,
    pub request_id: String,
    pub tool: String,
    pub kind: Option<ToolKind>,
    pub command: Option<String>,
    pub path: Option<String>,
    #[schema(value_type = Object)]
    pub input: Option<serde_json::Value>,
    pub status: ApprovalStatus,
    pub answered_by: Option<String>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}
