//! Tasks and runs, and the task state machine.
//!
//! A task is the unit the user thinks in ("Fix the flaky login test"); a run is one
//! attempt by one agent process at it. A task has many runs over its life (first try,
//! retries, follow-ups). The only way a task's status changes is [`TaskStatus::apply`],
//! so every transition the product allows is listed in one `match`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub type TaskId = i64;
pub type RunId = i64;

/// Where a task is in its life. Serialized in snake_case: this is part of the
/// contract scripts rely on (`bosun ls --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for a free slot (or for its dependencies).
    Queued,
    /// An agent process is working on it.
    Running,
    /// The agent is waiting for a human answer (a permission ask).
    NeedsInput,
    /// The agent finished successfully; a human reviews the result.
    Review,
    /// Merged or accepted. Terminal.
    Done,
    /// The agent failed, or the task could not be dispatched.
    Failed,
    /// A human stopped it.
    Stopped,
    /// The daemon died while it ran; the worktree is intact.
    Interrupted,
    /// A dependency failed or was stopped.
    Blocked,
    /// A human gave up on it: its worktree and branch are removed. Terminal.
    Discarded,
    /// Routing rules exist and none matched it: it waits for a human to name its
    /// agent (`bosun retry --agent`).
    Triage,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 11] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::NeedsInput,
        TaskStatus::Review,
        TaskStatus::Done,
        TaskStatus::Failed,
        TaskStatus::Stopped,
        TaskStatus::Interrupted,
        TaskStatus::Blocked,
        TaskStatus::Discarded,
        TaskStatus::Triage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::NeedsInput => "needs_input",
            TaskStatus::Review => "review",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
            TaskStatus::Stopped => "stopped",
            TaskStatus::Interrupted => "interrupted",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Discarded => "discarded",
            TaskStatus::Triage => "triage",
        }
    }

    /// The status as it reads after "is" in a sentence ("T-7 is in review").
    pub fn in_words(self) -> &'static str {
        match self {
            TaskStatus::NeedsInput => "waiting for input",
            TaskStatus::Review => "in review",
            TaskStatus::Triage => "waiting in triage",
            other => other.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// An agent process exists (or is being started) for the task.
    pub fn has_live_run(self) -> bool {
        matches!(self, TaskStatus::Running | TaskStatus::NeedsInput)
    }

    /// The task will not change again unless a human acts.
    pub fn is_settled(self) -> bool {
        !matches!(self, TaskStatus::Queued | TaskStatus::Running | TaskStatus::NeedsInput)
    }

    /// Nothing more will happen to it (merged, accepted or discarded): it may be archived.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Discarded)
    }

    /// The one place task transitions are decided.
    pub fn apply(self, event: TaskEvent) -> Result<TaskStatus, TransitionError> {
        use TaskEvent as E;
        use TaskStatus as S;
        let next = match (self, event) {
            (S::Queued, E::Dispatched) => S::Running,
            // (A task blocked by a budget is routed again at each look.)
            (S::Queued | S::Blocked, E::DispatchFailed) => S::Failed,
            (S::Queued | S::Blocked, E::Unrouted) => S::Triage,
            (S::Queued | S::Blocked | S::Triage | S::Running | S::NeedsInput, E::Stopped) => S::Stopped,
            (S::Running | S::NeedsInput, E::Finished { success: true }) => S::Review,
            (S::Running | S::NeedsInput, E::Finished { success: false }) => S::Failed,
            (S::Running | S::NeedsInput, E::Interrupted) => S::Interrupted,
            (S::Running, E::AwaitingInput) => S::NeedsInput,
            // Its run crossed a budget and was stopped: a human raises the budget.
            (S::Running | S::NeedsInput, E::OutOfBudget) => S::NeedsInput,
            (S::NeedsInput, E::BudgetRaised) => S::Queued,
            (S::NeedsInput, E::InputGiven) => S::Running,
            (S::Review, E::Merged | E::Accepted) => S::Done,
            (S::Failed | S::Stopped | S::Interrupted | S::Triage, E::Retried) => S::Queued,
            (S::Review | S::Failed | S::Stopped | S::Interrupted, E::Reopened) => S::Queued,
            (S::Queued, E::Blocked) => S::Blocked,
            (S::Blocked, E::Unblocked) => S::Queued,
            (S::Queued | S::Blocked | S::Triage | S::Review | S::Failed | S::Stopped | S::Interrupted, E::Discarded) => S::Discarded,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(next)
    }
}

impl TaskStatus {
    /// Whether the run that `event` queues continues the agent's session (where it left
    /// one) rather than starting a new one: a reply continues it; a retry starts over,
    /// except after the daemon cut the run off (nobody asked it to stop). None when
    /// `event` queues no new run from here.
    pub fn continues_session(self, event: TaskEvent) -> Option<bool> {
        match (self.apply(event).ok()?, event) {
            (TaskStatus::Queued, TaskEvent::Reopened | TaskEvent::BudgetRaised) => Some(true),
            (TaskStatus::Queued, TaskEvent::Retried) => Some(self == TaskStatus::Interrupted),
            _ => None,
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to a task, as far as its status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEvent {
    Dispatched,
    DispatchFailed,
    /// Routing rules exist and none matched.
    Unrouted,
    /// Its run crossed a budget and was stopped.
    OutOfBudget,
    /// The budget it waited for was raised: it continues.
    BudgetRaised,
    Finished {
        success: bool,
    },
    Stopped,
    Interrupted,
    AwaitingInput,
    InputGiven,
    Merged,
    /// A human accepted the task's deliverables (`bosun accept`): done without a merge.
    Accepted,
    Retried,
    Reopened,
    Blocked,
    Unblocked,
    Discarded,
}

impl TaskEvent {
    fn verb(self) -> &'static str {
        match self {
            TaskEvent::Dispatched => "start",
            TaskEvent::DispatchFailed => "fail dispatch of",
            TaskEvent::Unrouted => "triage",
            TaskEvent::OutOfBudget => "stop for its budget",
            TaskEvent::BudgetRaised => "continue (budget raised)",
            TaskEvent::Finished { .. } => "finish",
            TaskEvent::Stopped => "stop",
            TaskEvent::Interrupted => "interrupt",
            TaskEvent::AwaitingInput => "wait for input on",
            TaskEvent::InputGiven => "resume",
            TaskEvent::Merged => "merge",
            TaskEvent::Accepted => "accept",
            TaskEvent::Retried => "retry",
            TaskEvent::Reopened => "reopen",
            TaskEvent::Blocked => "block",
            TaskEvent::Unblocked => "unblock",
            TaskEvent::Discarded => "discard",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a task that is {}", event.verb(), from.in_words())]
pub struct TransitionError {
    pub from: TaskStatus,
    pub event: TaskEvent,
}

/// What a user asks for when creating a task. Validated by [`NewTask::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Path of a git repository (any directory inside it). None: a scratch workspace.
    #[serde(default)]
    pub repo: Option<String>,
    /// Branch to start from and merge into. Default: the repo's current branch.
    #[serde(default)]
    pub base: Option<String>,
    /// Agent profile name. None: routed by tags.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Higher runs first. Default 0.
    #[serde(default)]
    pub priority: i64,
    /// Tasks that must be done (merged) before this one starts.
    #[serde(default)]
    pub after: Vec<TaskId>,
    /// The model to run it with. None: the routing rule's, else the profile's.
    #[serde(default)]
    pub model: Option<String>,
    /// A name people give tasks to (a Notion person, a GitHub assignee): routing
    /// rules can match it.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Where the task came from (`cli`, `board`, `notion`, `github`, `linear`, `mcp`).
    /// Default `cli`.
    #[serde(default)]
    pub source: Option<String>,
    /// Dollars the task may spend in all its runs. None: a rule's, else the
    /// configured default (`[budget.task] default`).
    #[serde(default)]
    pub budget: Option<f64>,
}

/// The task sources routing rules can name.
pub const SOURCES: [&str; 6] = ["cli", "board", "notion", "github", "linear", "mcp"];

/// Whether `model` can name a model: one token of letters, digits and `-_.:/@[]`.
pub fn validate_model(model: &str) -> Result<(), String> {
    let ok = !model.is_empty() && model.len() <= 128 && model.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/@[]".contains(c));
    if ok { Ok(()) } else { Err(format!("invalid model {model:?}: one word of letters, digits and -_.:/@[] (at most 128)")) }
}

pub const MAX_TITLE_LEN: usize = 500;
pub const MAX_BODY_LEN: usize = 256 * 1024;
pub const MAX_TAGS: usize = 32;

impl NewTask {
    /// Checks what can be checked without I/O. Returns a message meant for the user.
    pub fn validate(&self) -> Result<(), String> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err("title must not be empty".into());
        }
        if title.chars().count() > MAX_TITLE_LEN {
            return Err(format!("title is longer than {MAX_TITLE_LEN} characters"));
        }
        if title.chars().any(|c| c.is_control()) {
            return Err("title must be one line without control characters".into());
        }
        if self.body.len() > MAX_BODY_LEN {
            return Err(format!("body is larger than {} KiB", MAX_BODY_LEN / 1024));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(format!("at most {MAX_TAGS} tags"));
        }
        for tag in &self.tags {
            if tag.is_empty() || tag.len() > 64 || !tag.chars().all(|c| c.is_alphanumeric() || "-_.:/".contains(c)) {
                return Err(format!("invalid tag {tag:?}: use letters, digits and -_.:/ (at most 64)"));
            }
        }
        if self.after.len() > MAX_TAGS {
            return Err(format!("at most {MAX_TAGS} dependencies"));
        }
        if let Some(agent) = &self.agent {
            crate::profile::validate_name(agent).map_err(|e| format!("invalid agent name: {e}"))?;
        }
        if let Some(model) = &self.model {
            validate_model(model)?;
        }
        if let Some(assignee) = &self.assignee
            && (assignee.trim().is_empty() || assignee.len() > 200 || assignee.chars().any(|c| c.is_control()))
        {
            return Err("assignee must be one line of at most 200 characters".into());
        }
        if let Some(b) = self.budget
            && !(b.is_finite() && (0.0..=MAX_REPORTED_COST).contains(&b))
        {
            return Err(format!("a budget of {b} dollars is not between 0 and {MAX_REPORTED_COST}"));
        }
        if let Some(source) = &self.source
            && !SOURCES.contains(&source.as_str())
        {
            return Err(format!("unknown source {source:?} (known: {})", SOURCES.join(", ")));
        }
        if let Some(repo) = &self.repo
            && (repo.is_empty() || repo.contains('\0'))
        {
            return Err("repo must be a non-empty path".into());
        }
        if let Some(base) = &self.base
            && (base.is_empty() || base.starts_with('-') || base.contains(|c: char| c.is_whitespace() || c.is_control()))
        {
            return Err(format!("invalid base branch {base:?}"));
        }
        Ok(())
    }
}

pub use crate::usage::{MAX_REPORTED_COST, MAX_REPORTED_TOKENS, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Persisted before the workspace is prepared and the process spawned.
    Starting,
    Running,
    NeedsInput,
    Succeeded,
    Failed,
    Stopped,
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Starting,
        RunStatus::Running,
        RunStatus::NeedsInput,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Stopped,
        RunStatus::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Starting => "starting",
            RunStatus::Running => "running",
            RunStatus::NeedsInput => "needs_input",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_live(self) -> bool {
        matches!(self, RunStatus::Starting | RunStatus::Running | RunStatus::NeedsInput)
    }
}

/// One attempt by one agent process at a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub id: RunId,
    pub task_id: TaskId,
    pub agent: String,
    pub status: RunStatus,
    /// Process id of the agent (also its process group id).
    pub pid: Option<i64>,
    pub exit_code: Option<i64>,
    /// Why it ended, for humans (last stderr lines, a signal, "stopped by user").
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The runtime's session the agent reported (Claude Code's session, Codex's
    /// thread, an ACP session), when it has one.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The model it ran with, when bosun chose one (the task's, a rule's or the
    /// profile's); None: the CLI's own default.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(flatten)]
    pub usage: Usage,
}

fn default_source() -> String {
    "cli".into()
}

/// A task as stored and as served by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub body: String,
    pub status: TaskStatus,
    /// Why the task is in its status, when that needs saying (failure reason, ...).
    pub status_reason: Option<String>,
    /// What a queued task waits for (a limit, a dependency, its start), as the
    /// dispatcher last decided; null for every other status.
    #[serde(default)]
    pub waiting: Option<crate::schedule::Waiting>,
    /// The agent profile asked for, or the one routing picked at dispatch.
    pub agent: Option<String>,
    /// The model asked for (`--model`), or the one a routing rule picked at dispatch.
    /// None: the profile's.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// Where it came from (see [`SOURCES`]).
    #[serde(default = "default_source")]
    pub source: String,
    /// Its own budget in dollars (`--budget`, raised by `bosun budget raise`), or the
    /// one a routing rule gave it at dispatch.
    #[serde(default)]
    pub budget: Option<f64>,
    pub repo: Option<String>,
    pub base: Option<String>,
    pub branch: Option<String>,
    /// The worktree (repo tasks) or scratch directory (other tasks), once created.
    pub worktree: Option<String>,
    pub tags: Vec<String>,
    pub priority: i64,
    /// Tasks that must be done before this one starts.
    pub after: Vec<TaskId>,
    /// Its next (or current) run continues the agent's last session instead of
    /// starting a new one: decided when it is queued again (a reply does, a retry does
    /// only after the daemon cut the run off), and only if a session exists.
    #[serde(default)]
    pub resume: bool,
    /// The pull request opened for the task's branch, if any.
    pub pr: Option<PullRequest>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was archived (`bosun archive`): left out of lists and the board.
    pub archived_at: Option<DateTime<Utc>>,
    /// The item it was made of, when a source made it (a Notion page, an issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::source::Origin>,
    pub runs: Vec<Run>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrState {
    Open,
    Closed,
    Merged,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Closed => "closed",
            PrState::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<PrState> {
        [PrState::Open, PrState::Closed, PrState::Merged].into_iter().find(|p| p.as_str() == s)
    }
}

/// A pull request on the forge (GitHub) for a task's branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PullRequest {
    pub number: i64,
    pub url: String,
    pub state: PrState,
    pub draft: bool,
}

impl Task {
    /// The runtime session run `run_id` (of profile `agent`) continues, and the cost the
    /// runs before it already counted for that session: the last session an earlier run
    /// left, when the task continues its session (`resume`) and that run was the same
    /// profile's (`retry --agent` starts over). None: a new session.
    pub fn session_before(&self, run_id: RunId, agent: &str) -> Option<(String, f64)> {
        if !self.resume {
            return None;
        }
        let earlier = || self.runs.iter().filter(move |r| r.id < run_id);
        let last = earlier().rfind(|r| r.session_id.is_some())?;
        let session = last.session_id.clone().filter(|_| last.agent == agent)?;
        let cost = earlier().filter(|r| r.session_id.as_deref() == Some(session.as_str())).filter_map(|r| r.usage.cost_usd).sum();
        Some((session, cost))
    }

    /// Total usage over every run.
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for run in &self.runs {
            total.add(&run.usage);
        }
        total
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;

    fn run(id: RunId, agent: &str, session: Option<&str>, cost: f64) -> Run {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Run {
            id,
            task_id: 1,
            agent: agent.into(),
            status: RunStatus::Succeeded,
            pid: None,
            exit_code: None,
            reason: None,
            started_at: now,
            ended_at: None,
            session_id: session.map(str::to_string),
            model: None,
            usage: Usage { cost_usd: Some(cost), ..Usage::default() },
        }
    }

    fn task(resume: bool, runs: Vec<Run>) -> Task {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Task {
            id: 1,
            title: "t".into(),
            body: String::new(),
            status: TaskStatus::Running,
            status_reason: None,
            waiting: None,
            agent: None,
            model: None,
            assignee: None,
            source: "cli".into(),
            budget: None,
            repo: None,
            base: None,
            branch: None,
            worktree: None,
            tags: Vec::new(),
            priority: 0,
            after: Vec::new(),
            resume,
            pr: None,
            created_at: now,
            updated_at: now,
            archived_at: None,
            origin: None,
            runs,
        }
    }

    #[test]
    fn a_run_continues_the_session_before_it_not_its_own() {
        // Run 3 is live and has reported a session of its own (as a re-attached run has).
        let runs = vec![run(1, "claude", Some("s1"), 0.25), run(2, "claude", Some("s1"), 0.5), run(3, "claude", Some("s3"), 9.0)];
        assert_eq!(task(true, runs.clone()).session_before(3, "claude"), Some(("s1".into(), 0.75)));
        assert_eq!(task(false, runs.clone()).session_before(3, "claude"), None, "a retry starts over");
        assert_eq!(task(true, runs).session_before(3, "codex"), None, "never another profile's session");
        assert_eq!(task(true, vec![run(1, "claude", None, 0.1)]).session_before(2, "claude"), None, "no session left");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskEvent as E;
    use TaskStatus as S;

    #[test]
    fn the_happy_path() {
        let s = S::Queued.apply(E::Dispatched).unwrap();
        assert_eq!(s, S::Running);
        let s = s.apply(E::Finished { success: true }).unwrap();
        assert_eq!(s, S::Review);
        assert_eq!(s.apply(E::Merged).unwrap(), S::Done);
    }

    #[test]
    fn retry_only_from_unsuccessful_ends() {
        for from in [S::Failed, S::Stopped, S::Interrupted] {
            assert_eq!(from.apply(E::Retried).unwrap(), S::Queued);
        }
        for from in [S::Queued, S::Running, S::Review, S::Done] {
            let err = from.apply(E::Retried).unwrap_err();
            assert_eq!(err.to_string(), format!("cannot retry a task that is {}", from.in_words()));
        }
    }

    #[test]
    fn a_reply_continues_the_session_and_a_retry_starts_over_unless_the_daemon_cut_it_off() {
        for from in [S::Review, S::Failed, S::Stopped, S::Interrupted] {
            assert_eq!(from.apply(E::Reopened).unwrap(), S::Queued);
            assert_eq!(from.continues_session(E::Reopened), Some(true));
        }
        assert_eq!(S::Stopped.continues_session(E::Retried), Some(false));
        assert_eq!(S::Failed.continues_session(E::Retried), Some(false));
        assert_eq!(S::Interrupted.continues_session(E::Retried), Some(true));
        assert_eq!(S::Queued.continues_session(E::Dispatched), None, "starting a run decides nothing");
        assert_eq!(S::Done.continues_session(E::Reopened), None, "a done task is not reopened");
    }

    #[test]
    fn discard_from_anything_settled_but_done() {
        for from in [S::Queued, S::Blocked, S::Review, S::Failed, S::Stopped, S::Interrupted] {
            assert_eq!(from.apply(E::Discarded).unwrap(), S::Discarded);
        }
        for from in [S::Running, S::NeedsInput, S::Done, S::Discarded] {
            let err = from.apply(E::Discarded).unwrap_err();
            assert_eq!(err.to_string(), format!("cannot discard a task that is {}", from.in_words()));
        }
        for ev in [E::Dispatched, E::Retried, E::Reopened, E::Merged, E::Unblocked] {
            assert!(S::Discarded.apply(ev).is_err(), "{ev:?}");
        }
    }

    #[test]
    fn done_is_terminal() {
        for ev in [E::Dispatched, E::Stopped, E::Merged, E::Retried, E::Finished { success: true }] {
            assert!(S::Done.apply(ev).is_err());
        }
    }

    #[test]
    fn merge_needs_review() {
        assert!(S::Running.apply(E::Merged).is_err());
        assert_eq!(S::Review.apply(E::Accepted).unwrap(), S::Done);
        assert!(S::Running.apply(E::Accepted).is_err() && S::Failed.apply(E::Accepted).is_err());
        assert!(S::Failed.apply(E::Merged).is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn new_task_validation() {
        let ok = NewTask { title: "Fix it".into(), ..Default::default() };
        assert!(ok.validate().is_ok());
        let hostile = NewTask { title: "\"; rm -rf ~".into(), ..Default::default() };
        assert!(hostile.validate().is_ok(), "hostile titles are data, not an error");
        assert!(NewTask { title: "  ".into(), ..Default::default() }.validate().is_err());
        assert!(NewTask { title: "a\nb".into(), ..Default::default() }.validate().is_err());
        assert!(NewTask { title: "x".repeat(501), ..Default::default() }.validate().is_err());
        assert!(NewTask { title: "x".into(), base: Some("--upload-pack=evil".into()), ..Default::default() }.validate().is_err());
        assert!(NewTask { title: "x".into(), agent: Some("../x".into()), ..Default::default() }.validate().is_err());
        assert!(NewTask { title: "x".into(), tags: vec!["a b".into()], ..Default::default() }.validate().is_err());
    }

    #[test]
    fn usage_sums_and_keeps_unknown_cost_unknown() {
        let mut u = Usage::default();
        u.add(&Usage { input_tokens: 10, output_tokens: 5, cached_tokens: 1, cost_usd: None });
        assert_eq!(u.cost_usd, None);
        u.add(&Usage { input_tokens: 1, output_tokens: 1, cached_tokens: 0, cost_usd: Some(0.25) });
        assert_eq!(u, Usage { input_tokens: 11, output_tokens: 6, cached_tokens: 1, cost_usd: Some(0.25) });
    }
}
