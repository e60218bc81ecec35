//! bosun's wire types: every request body and response body of the HTTP API that is
//! not a domain type of `bosun-core` (tasks, runs, events and approvals are sent as
//! they are). The engine's operations return these, the server serializes them, and
//! the CLI (and any other client) reads them: one definition, so they cannot drift.
//! With the `client` feature, [`client::Client`] is a typed HTTP client of the API.

pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod cost;
pub mod deliverable;
pub mod notify;
pub mod paths;
pub mod review;
pub mod route;
pub mod source;

pub use auth::{Device, LoginRequest, NewTokenBody, NewTokenRequest, PairingBody, PairingRequest};
pub use deliverable::{AcceptBody, AcceptRequest, ContentQuery, DeliverablesBody};
pub use review::{FileDiffBody, FileDiffQuery, FileEntry, FilesBody};

use std::collections::BTreeMap;

use bosun_core::{AgentProfile, Approval, Task, TaskStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {"code": "...", "message": "..."}}`: every error answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// bad_request, forbidden, not_found, conflict, bad_gateway, payload_too_large, internal, ...
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub ok: bool,
    pub version: String,
}

/// `GET /api/tasks?...`: which tasks to list (every field may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Comma-separated statuses, e.g. `running,review` (the server names unknown ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A repository's root path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// An agent profile's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Only tasks with a greater id (paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Only archived tasks (`true`); left out, archived tasks are not listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// `POST /api/tasks/{id}/merge`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// `squash` (default), `merge` or `rebase`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The commit message (squash and merge; rebase keeps the task's commits). Left
    /// out or blank: the task's title and body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a merge did. Every one of them leaves the task done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MergeResult {
    /// The branch landed on the base as `commit`.
    Merged,
    /// Everything the branch changes was already on the base: nothing landed.
    AlreadyInBase,
    /// The branch changes nothing: nothing landed.
    NoChanges,
    /// A task without a repo, accepted as it is.
    Accepted,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergeBody {
    pub task: Task,
    pub result: MergeResult,
    /// The new tip of the base branch (only when something was merged).
    pub commit: Option<String>,
    pub strategy: Option<String>,
    /// What was cleaned up afterwards, and what was kept and why.
    pub cleanup: Vec<String>,
}

/// `POST /api/tasks/{id}/pr`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrRequest {
    /// Open it as a draft.
    #[serde(default)]
    pub draft: bool,
    /// Only read the existing PR's state.
    #[serde(default)]
    pub refresh: bool,
}

/// `POST /api/tasks/{id}/retry`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// Run it with another agent profile this time (from triage: the agent it was
    /// waiting for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Run it with this model from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// `POST /api/tasks/{id}/edit`: change a task that is still queued; what is left
/// out stays as it is.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// An agent profile's name; empty: route by tags again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

/// `POST /api/tasks/{id}/rm`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RmRequest {
    /// Discard unmerged commits and uncommitted changes.
    #[serde(default)]
    pub force: bool,
}

/// The task after `rm` or `discard`, and what was removed from disk.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RmBody {
    pub task: Task,
    /// What was removed.
    pub removed: Vec<String>,
}

/// `POST /api/tasks/{id}/discard`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardRequest {
    /// Discard even unmerged commits and uncommitted changes (see `GET .../loss`).
    #[serde(default)]
    pub yes: bool,
}

/// `GET /api/tasks/{id}/loss`: what discarding the task (removing its worktree and
/// branch) would lose.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LossBody {
    /// Commits on the task branch that are not in its base.
    pub unmerged_commits: usize,
    /// Files those commits change.
    pub changed_files: usize,
    /// Files with uncommitted changes in the worktree.
    pub uncommitted: Vec<String>,
    /// For people, e.g. "2 commits on bosun/3-x not in main (4 files changed)";
    /// absent when nothing would be lost.
    pub summary: Option<String>,
}

/// `POST /api/archive`: hide done or discarded tasks from lists and the board.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveRequest {
    #[serde(default)]
    pub ids: Vec<i64>,
    /// Every done or discarded task (instead of `ids`).
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArchiveBody {
    /// The tasks this call archived (ones archived before are not repeated).
    pub archived: Vec<i64>,
}

/// `POST /api/gc`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GcRequest {
    /// Remove what can go (otherwise only list it).
    #[serde(default)]
    pub yes: bool,
}

/// What `gc` does (or would do) with a task's workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GcAction {
    /// It can go (listed, not removed: `yes` was not given).
    Remove,
    Removed,
    Keep,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GcItem {
    pub task_id: i64,
    pub status: TaskStatus,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    pub action: GcAction,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebaseOutcome {
    UpToDate,
    Rebased,
}

/// `POST /api/tasks/{id}/rebase` (a conflict is a 409 naming the files).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RebaseBody {
    pub outcome: RebaseOutcome,
    pub head: Option<String>,
}

/// `POST /api/tasks/{id}/say` and `/reply`: a human's words for the agent.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SayRequest {
    pub text: String,
    /// Ignored: the server records who is speaking from the request's credential (the
    /// token's or device's name). Kept so that older clients' bodies still parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `reply` only: the run is to resolve the conflicts a rebase or merge left in the
    /// worktree (the agent is told which files; a file still holding conflict markers
    /// at the end fails the run, and nothing is committed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolve: bool,
    /// `reply` only: review comments on lines of the diff, sent with `text` (the
    /// overall note, which may then be empty) as one message, each quoted with its
    /// file and line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<bosun_core::review::LineComment>,
    /// `reply` only: run it with this model from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// How a message reached (or will reach) the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Handed to the running agent.
    Now,
    /// Kept for the task's next run, which gets it with its prompt.
    AtStart,
    /// The task had ended (stopped, interrupted, failed): it is queued again, as by a
    /// reply, and its next run continues the agent's session with the message
    /// (`task.resume`; false when the agent left no session to continue).
    Reopened,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SayBody {
    pub delivered: Delivery,
    /// The task queued again (`delivered: reopened` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
}

/// `POST /api/tasks/{id}/after`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterRequest {
    /// Task ids to wait for (added to the existing ones).
    pub after: Vec<i64>,
}

/// `POST /api/tasks/{id}/approve` and `/deny`
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// Which approval (default: the task's oldest pending one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Approve: also allow this tool pattern from now on, for the profile.
    #[serde(default)]
    pub always: bool,
    /// Deny: the reason, passed to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Ignored: the server records who answers from the request's credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// `GET /api/approvals`: a pending ask with the task it belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingApproval {
    #[serde(flatten)]
    pub approval: Approval,
    pub title: String,
    pub agent: Option<String>,
    /// The rule `approve --always` would save (for this agent, in this task's repo);
    /// null when no rule can cover this ask (a command that chains, pipes,
    /// substitutes or redirects is allowed only by an answer, each time).
    #[serde(default)]
    pub always: Option<String>,
}

/// `POST /api/tasks/{id}/approve` and `/deny`: the answered ask, and the rule
/// `always` saved (null when none was asked for or none can cover the ask).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnswerBody {
    #[serde(flatten)]
    pub approval: Approval,
    #[serde(default)]
    pub saved_rule: Option<String>,
}

/// `GET /api/rules?...`: which allow rules to list (every field may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RulesQuery {
    /// An agent profile's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// A repository's root path: its saved rules, its profiles' and the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
}

/// `GET /api/rules`: an allow rule, saved by `approve --always` or written in a
/// profile file's `allow:` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AllowRule {
    /// A saved rule's id (`DELETE /api/rules/{id}` revokes it); null for a profile
    /// file's rule, which only editing the file changes.
    pub id: Option<i64>,
    pub profile: String,
    /// A saved rule: the repo it holds in (null: tasks without a repo). A profile's
    /// rule: the repo whose profile it is (null: a user profile, for every repo).
    pub repo: Option<String>,
    pub pattern: String,
    pub origin: RuleOrigin,
}

/// Where an allow rule came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleOrigin {
    /// Saved by `approve --always` with this answer (null for rules saved before
    /// bosun recorded it).
    Approval { approval: Option<Box<Approval>>, saved_at: Option<DateTime<Utc>> },
    /// An entry of this profile file's `allow:` list.
    Profile { file: String },
}

/// `GET /api/tasks/{id}/diff`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiffBody {
    pub base: Option<String>,
    pub branch: Option<String>,
    /// Files changed on the branch (or present in the workspace).
    pub files: Vec<String>,
    /// Files with uncommitted changes in the worktree (not in `diff`).
    pub uncommitted: Vec<String>,
    /// The unified diff, `base...branch`.
    pub diff: String,
}

/// `GET /api/repos`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepoSummary {
    pub repo: String,
    pub tasks: i64,
    /// Status name -> number of tasks.
    pub by_status: BTreeMap<String, i64>,
}

/// `GET /api/agents`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentsBody {
    pub agents: Vec<AgentInfo>,
    /// Profile files that could not be read, and why.
    pub broken: Vec<BrokenProfile>,
}

/// A profile as served: its `env:` values are masked ([`MASK`]).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentInfo {
    #[serde(flatten)]
    pub profile: AgentProfile,
    /// The runtime's program, where it was found, and its version.
    pub installed: Installed,
    /// The models it runs with: its own `model` (if any), then those routing rules
    /// choose for it.
    #[serde(default)]
    pub models: Vec<String>,
    /// For an `api` agent on an `openai-compatible` server: what its base URL answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

/// A model server probed at its base URL (`GET {base_url}/models`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    pub url: String,
    pub ok: bool,
    /// The models it serves.
    #[serde(default)]
    pub models: Vec<String>,
    /// Why it is not usable, for a human.
    pub problem: Option<String>,
}

/// What `/api/agents` shows instead of an `env:` value.
pub const MASK: &str = "********";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Installed {
    pub ok: bool,
    pub program: String,
    pub path: Option<String>,
    pub version: Option<String>,
    /// Why it is not usable, for a human.
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrokenProfile {
    pub path: String,
    pub error: String,
}
