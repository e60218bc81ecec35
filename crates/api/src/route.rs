//! The routing routes' bodies: `POST /api/route/explain` (which rule takes a task,
//! why the earlier ones did not, and the rules left out).

use bosun_core::route::RuleError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/route/explain`: where a task like this would go. The request is a
/// [`bosun_core::NewTask`] (only what routing reads counts; nothing is created).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RouteExplained {
    /// The rules tried, in order, up to the one that matched.
    pub tried: Vec<RuleVerdict>,
    /// Rules after the match, not tried.
    pub untried: usize,
    /// The rule files read, in order (the repo's first).
    pub files: Vec<String>,
    /// Rules left out (unreadable, or naming an unknown profile), where and why.
    pub broken: Vec<RuleError>,
    pub decision: RouteDecision,
}

/// One rule and how it fared.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleVerdict {
    pub file: String,
    pub line: usize,
    pub agent: String,
    pub model: Option<String>,
    pub matched: bool,
    /// Why it did not match.
    pub why: Option<String>,
}

/// Where the task goes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RouteDecision {
    /// The profile; None: triage, or no profile at all (`error`).
    pub agent: Option<String>,
    /// The model it would run with; None: the CLI's default.
    pub model: Option<String>,
    /// Why this one, in words ("rule at routing.toml line 3", "--agent", ...).
    pub by: String,
    /// Routing failed: why (an unknown agent, no profile at all).
    pub error: Option<String>,
}
