//! bosun's storage: one trait, [`Store`], that the daemon talks to, and its SQLite
//! implementation (the default; a PostgreSQL one will satisfy the same trait).
//!
//! The trait speaks in domain operations, not rows: "start a run for this queued
//! task", "finish this run and move its task". Each such operation is one
//! transaction, and status changes are compare-and-set on the status the caller
//! saw, so two actors (two daemons on one database, later) cannot both start the
//! same task. Events are append-only, numbered by the store.
//!
//! [`CachedStore`] wraps any store to serve the task list from memory, fed by the
//! wrapped store's change feed.

mod cache;
mod cached;
pub mod credentials;
pub mod deliverables;
pub mod ledger;
pub mod notify;
pub mod pool;
pub mod sources;
mod sqlite;

use async_trait::async_trait;
use std::collections::HashMap;

use bosun_core::schedule::Waiting;
use bosun_core::task::{RunId, TaskId};
use bosun_core::{AgentProfile, Event, NewEvent, NewTask, PullRequest, Run, RunStatus, Task, TaskEvent, TaskStatus, TransitionError};
pub use bosun_core::{Approval, ApprovalStatus, NewApproval};
use chrono::{DateTime, Utc};

pub use cached::CachedStore;
pub use credentials::{Credential, NewCredential, Pairing, SessionFor};

/// Why a run that was live when the daemon last stopped is `interrupted`: its holder
/// did not answer the restarted daemon, so nobody holds the agent any more.
pub const HOLDER_GONE: &str = "the agent's holder process is gone (the machine or the holder was killed)";
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task {0} not found")]
    TaskNotFound(TaskId),
    #[error("run {0} not found")]
    RunNotFound(RunId),
    /// The task was not in the status the caller expected: someone else moved it.
    #[error("task {id} is {actual}, not {expected}")]
    StatusChanged { id: TaskId, expected: TaskStatus, actual: TaskStatus },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("approval {0} not found")]
    ApprovalNotFound(i64),
    #[error("allow rule {0} not found")]
    RuleNotFound(i64),
    #[error("notification channel {0} not found")]
    ChannelNotFound(i64),
    #[error("source {0} not found")]
    SourceNotFound(i64),
    /// Someone (or the run's end) answered it first.
    #[error("approval {id} was already answered: it is {}", status.as_str())]
    AlreadyAnswered { id: i64, status: ApprovalStatus },
    /// The disk holding the database is full: nothing was written. Goes away by itself
    /// once space is freed.
    #[error("the disk holding bosun's data is full: nothing more can be stored until space is freed")]
    Full,
    /// The database file is damaged (SQLite says malformed, or not a database).
    #[error("the database is damaged: {0}")]
    Damaged(String),
    /// The storage itself failed (the database, the disk); backend-specific detail.
    #[error("storage failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    #[error("credential {0} not found")]
    CredentialNotFound(i64),
    /// A live token already has this name.
    #[error("a token named `{0}` already exists")]
    DuplicateName(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A run's reservation does not fit a budget it falls under: nothing was written.
    #[error("{}", .0.describe())]
    OverBudget(Box<bosun_core::budget::BudgetState>),
}

/// An allow rule to save with an answer: for this profile, in this repo only.
#[derive(Debug, Clone, Copy)]
pub struct NewRule<'a> {
    pub profile: &'a str,
    pub repo: Option<&'a str>,
    pub pattern: &'a str,
}

/// A rule `approve --always` saved, with the answer it was saved with.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRule {
    pub id: i64,
    pub profile: String,
    /// The repo it holds in (None: tasks without a repo).
    pub repo: Option<String>,
    pub pattern: String,
    /// The answer that saved it (None for rules saved before bosun recorded that).
    pub approval: Option<Approval>,
    /// When it was saved (None for rules saved before bosun recorded that).
    pub created_at: Option<DateTime<Utc>>,
}

/// Which saved rules [`Store::saved_rules`] returns (empty: all of them).
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    pub profile: Option<String>,
    pub repo: Option<String>,
}

/// A run that is live somewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRun {
    pub task_id: TaskId,
    pub run_id: RunId,
    /// Its agent profile.
    pub agent: String,
    pub node: String,
}

/// How many tasks of a repo are in one status.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoCount {
    pub repo: String,
    pub status: TaskStatus,
    pub tasks: i64,
}

/// A message kept for a task's next run (`bosun say` to a queued task, `reply`).
#[derive(Debug, Clone, PartialEq)]
pub struct InboxMessage {
    pub id: i64,
    pub text: String,
    /// From `reply --resolve`: the run it starts is to resolve the worktree's conflicts.
    pub resolve: bool,
}

/// Which tasks `list_tasks` returns. Empty filter: all of them, oldest first.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub statuses: Vec<TaskStatus>,
    pub repo: Option<String>,
    pub agent: Option<String>,
    pub tag: Option<String>,
    /// Only tasks with an id greater than this (paging).
    pub after_id: Option<TaskId>,
    pub limit: Option<i64>,
    /// Only archived tasks (`Some(true)`), only the others (`Some(false)`), or both.
    pub archived: Option<bool>,
}

/// What is fixed about a task when it is created, after the daemon resolved the
/// repo root and base branch.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub new: NewTask,
    pub repo: Option<String>,
    pub base: Option<String>,
}

/// A change to a queued task (`None`: left as it is).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskEdit {
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
    pub priority: Option<i64>,
    /// `Some(None)`: routed again by tags.
    pub agent: Option<Option<String>>,
}

/// What a run starts with ([`Store::start_run_with`]).
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    /// The profile.
    pub agent: &'a str,
    /// The marker in the agent's environment (`BOSUN_RUN_TOKEN`).
    pub token: &'a str,
    pub node: &'a str,
    /// The model bosun runs it with; None: the CLI's default.
    pub model: Option<&'a str>,
    /// What the run reserves, and the budgets it must fit (all of them, or the run
    /// does not start: [`StoreError::OverBudget`]).
    pub reserve: Option<(f64, Vec<bosun_core::budget::Budget>)>,
    /// Where the task's workspace is to be made, for a task that has none recorded yet:
    /// recorded in the start's transaction, before anything exists on disk.
    pub workspace: Option<RunWorkspace<'a>>,
}

/// A task's workspace as recorded before it is made: its directory, and the branch
/// checked out there (repo tasks).
#[derive(Debug, Clone, Copy)]
pub struct RunWorkspace<'a> {
    pub branch: Option<&'a str>,
    pub worktree: &'a str,
}

/// How a run ended, and what that means for its task (applied with
/// [`TaskStatus::apply`] to the task's status at that moment).
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub status: RunStatus,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub task_event: TaskEvent,
}

/// A run that was live when the daemon died, as found by [`Store::interrupt_live_runs`].
#[derive(Debug, Clone)]
pub struct OrphanRun {
    pub run: Run,
    /// The marker in the agent's environment (`BOSUN_RUN_TOKEN`), to find leftovers.
    pub token: String,
}

/// What a write changed, as a store reports it to caches ([`Store::changes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Task(TaskId),
    /// Anything may have changed (crash recovery; a cache that fell behind).
    All,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A feed of the tasks each write touches, reported before the write returns.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change>;
    /// Channels, the notification outbox and its deliveries, action links, push
    /// subscriptions.
    fn notify(&self) -> &dyn notify::NotifyStore;
    /// Task sources, the links from their items to tasks, and the write-back queue.
    fn sources(&self) -> &dyn sources::SourceStore;
    /// The cost ledger and budgets.
    fn ledger(&self) -> &dyn ledger::LedgerStore;
    /// The files runs handed over (written with their run's end).
    fn deliverables(&self) -> &dyn deliverables::DeliverableStore;
    /// The warm worktree pool's entries.
    fn pool(&self) -> &dyn pool::PoolStore;
    /// Closes the store once the daemon is done with it, waiting for its connections
    /// to finish (for SQLite: the last one folds the WAL into the database file).
    async fn close(&self) {}
    async fn create_task(&self, task: TaskRecord, now: DateTime<Utc>) -> Result<Task>;
    async fn get_task(&self, id: TaskId) -> Result<Task>;
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>>;
    /// [`Store::list_tasks`] as the JSON array the API serves ([`CachedStore`] answers
    /// it from memory).
    async fn list_tasks_json(&self, filter: &TaskFilter) -> Result<String> {
        Ok(serde_json::to_string(&self.list_tasks(filter).await?).expect("tasks serialize"))
    }
    /// Queued tasks whose dependencies are all done, and tasks blocked by a budget
    /// (`blocked` with a budget `waiting`), highest priority first then oldest: the
    /// dispatcher's input.
    async fn queued_tasks(&self) -> Result<Vec<Task>>;
    /// Records what queued (or blocked) tasks wait for (None: nothing to say). A task
    /// that is neither, or already says so, is left alone; returns the tasks written.
    async fn set_waits(&self, waits: &[(TaskId, Option<Waiting>)]) -> Result<Vec<TaskId>>;

    /// Applies `event` to a task that is still `from` (compare-and-set: someone
    /// else's move first is [`StoreError::StatusChanged`]; a move the state machine
    /// forbids is [`StoreError::Transition`]).
    async fn transition_task(
        &self,
        id: TaskId,
        from: TaskStatus,
        event: TaskEvent,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Task>;
    /// [`Store::transition_task`] that also records what the task now waits for
    /// (`waiting`), in the same transaction: a task blocked by a budget says which.
    async fn transition_waiting(
        &self,
        id: TaskId,
        from: TaskStatus,
        event: TaskEvent,
        reason: Option<&str>,
        waiting: Option<&Waiting>,
        now: DateTime<Utc>,
    ) -> Result<Task>;
    /// Archives those of `ids` that are done or discarded and not archived yet;
    /// returns them.
    async fn archive_tasks(&self, ids: &[TaskId], now: DateTime<Utc>) -> Result<Vec<TaskId>>;
    /// Records the workspace of a task (persisted before it is created on disk).
    async fn set_task_workspace(&self, id: TaskId, branch: Option<&str>, worktree: &str, now: DateTime<Utc>) -> Result<()>;
    /// Changes a queued task (compare-and-set on `queued`: one that started meanwhile
    /// is refused with [`StoreError::StatusChanged`]).
    async fn edit_queued_task(&self, id: TaskId, edit: &TaskEdit, now: DateTime<Utc>) -> Result<Task>;
    /// Records which profile routing picked.
    async fn set_task_agent(&self, id: TaskId, agent: &str, now: DateTime<Utc>) -> Result<()>;

    /// Records the model a task is to run with (`--model` on retry and reply); None:
    /// the profile's.
    async fn set_task_model(&self, id: TaskId, model: Option<&str>, now: DateTime<Utc>) -> Result<()>;

    /// Queued -> running (`TaskEvent::Dispatched`), and a new run in `starting` on
    /// `node`, in one transaction.
    async fn start_run(&self, task_id: TaskId, agent: &str, token: &str, node: &str, now: DateTime<Utc>) -> Result<(Task, Run)> {
        self.start_run_with(task_id, &RunStart { agent, token, node, model: None, reserve: None, workspace: None }, now).await
    }
    /// [`Store::start_run`] with everything a run starts with (its agent becomes the
    /// task's, in the same transaction).
    async fn start_run_with(&self, task_id: TaskId, start: &RunStart<'_>, now: DateTime<Utc>) -> Result<(Task, Run)>;
    /// The process exists: record its pid and mark the run running.
    async fn set_run_pid(&self, run_id: RunId, pid: i64) -> Result<()>;
    /// The agent has started with its prompt: [`Store::set_run_pid`] and every message
    /// queued for its task marked delivered (they are in the prompt), in one transaction.
    async fn agent_started(&self, run_id: RunId, pid: i64, now: DateTime<Utc>) -> Result<()>;
    /// Ends a live run and applies `end.task_event` to its task, in one transaction
    /// (compare-and-set on the task's status as read in it).
    async fn finish_run(&self, run_id: RunId, end: RunEnd, now: DateTime<Utc>) -> Result<Task> {
        self.finish_run_with(run_id, end, &[], now).await
    }
    /// [`Store::finish_run`] that also records the run's deliverables, in the same
    /// transaction.
    async fn finish_run_with(
        &self,
        run_id: RunId,
        end: RunEnd,
        deliverables: &[deliverables::NewDeliverable],
        now: DateTime<Utc>,
    ) -> Result<Task>;
    /// running <-> needs_input, for a live run and its task, in one transaction.
    async fn set_waiting(&self, run_id: RunId, waiting: bool, now: DateTime<Utc>) -> Result<Task>;
    /// Every live run (starting, running, needs input) on any node: what the
    /// per-profile limits count.
    async fn live_runs(&self) -> Result<Vec<LiveRun>>;
    /// Crash recovery of `node`: its live runs but those in `keep` (taken back by
    /// the new daemon) become interrupted, and so do their tasks (and tasks left
    /// running with no live run at all).
    async fn interrupt_live_runs(&self, node: &str, keep: &[RunId], now: DateTime<Utc>) -> Result<Vec<OrphanRun>>;

    /// Appends events, numbering each task's from its last stored seq (so any number
    /// of writers can append), adds usage events to their runs' totals, and records
    /// for each `(run, lines)` of `seen` that the run's first `lines` output lines
    /// are taken in, atomically. Returns the seq each event got, in order.
    async fn append_events(&self, events: &[NewEvent], seen: &[(RunId, u64)]) -> Result<Vec<i64>>;
    /// How many of a run's output lines have their events stored (see `append_events`).
    async fn output_seen(&self, run_id: RunId) -> Result<u64>;
    /// Events of a task with `seq > after`, in order, at most `limit`.
    async fn events(&self, task_id: TaskId, after: i64, limit: i64) -> Result<Vec<Event>>;
    async fn last_seq(&self, task_id: TaskId) -> Result<i64>;

    /// Tasks that depend on `id`.
    async fn dependents(&self, id: TaskId) -> Result<Vec<TaskId>>;
    /// Every dependency edge: task -> the tasks it waits for.
    async fn dep_edges(&self) -> Result<HashMap<TaskId, Vec<TaskId>>>;
    /// Adds dependencies to a task (the caller checked for cycles).
    async fn add_deps(&self, id: TaskId, deps: &[TaskId], now: DateTime<Utc>) -> Result<Task>;
    /// Records the pull request of a task's branch.
    async fn set_pr(&self, id: TaskId, pr: &PullRequest, now: DateTime<Utc>) -> Result<Task>;

    /// Records, before the base is touched, that task `id` is being merged with
    /// `strategy`. Any status change of the task clears it (in its transaction), so
    /// what is left at start-up is a merge a crash cut off.
    async fn set_merge_intent(&self, id: TaskId, strategy: &str, now: DateTime<Utc>) -> Result<()>;
    /// Merges recorded and not finished: (task, strategy), oldest first.
    async fn merge_intents(&self) -> Result<Vec<(TaskId, String)>>;
    /// Forgets a merge that failed (its task stays as it was).
    async fn clear_merge_intent(&self, id: TaskId) -> Result<()>;

    /// Per repo, how many tasks are in each status (by repo, then status).
    async fn repo_counts(&self) -> Result<Vec<RepoCount>>;

    /// The marker in a run's processes' environment (`BOSUN_RUN_TOKEN`).
    async fn run_token(&self, run_id: RunId) -> Result<String>;
    /// Records the runtime's own session of a run.
    async fn set_run_session(&self, run_id: RunId, session_id: &str) -> Result<()>;

    async fn add_approval(&self, ask: NewApproval, now: DateTime<Utc>) -> Result<Approval>;
    /// Approvals of one task or all, pending ones only or every one.
    async fn approvals(&self, task_id: Option<TaskId>, pending_only: bool) -> Result<Vec<Approval>>;
    /// Answers a pending ask, once ([`StoreError::AlreadyAnswered`] otherwise), and with
    /// `always` saves that allow rule in the same transaction.
    async fn answer_approval(
        &self,
        id: i64,
        allow: bool,
        by: &str,
        message: Option<&str>,
        always: Option<NewRule<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Approval>;
    /// A run ended: its unanswered asks can no longer be answered.
    async fn expire_approvals(&self, run_id: RunId, now: DateTime<Utc>) -> Result<()>;

    /// `reply`: keeps the message for the task's next run and reopens the task
    /// (`TaskEvent::Reopened` on a task still `from`), in one transaction.
    async fn reopen_with_message(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task>;
    /// [`Store::reopen_with_message`] whose message asks the next run to resolve the
    /// conflicts a rebase or merge left in the worktree ([`InboxMessage::resolve`]).
    async fn reopen_to_resolve(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task>;
    /// Keeps a message for a task's next run.
    async fn queue_message(&self, task_id: TaskId, text: &str, now: DateTime<Utc>) -> Result<()>;
    /// The messages of a task no run has received yet, oldest first.
    async fn undelivered_messages(&self, task_id: TaskId) -> Result<Vec<InboxMessage>>;
    /// A run's agent received the task's messages up to `up_to` (an [`InboxMessage::id`]).
    async fn mark_delivered(&self, task_id: TaskId, up_to: i64, now: DateTime<Utc>) -> Result<()>;

    /// The rules `approve --always` saved for a profile in a repo (None: tasks
    /// without a repo).
    async fn allow_rules(&self, profile: &str, repo: Option<&str>) -> Result<Vec<String>>;
    /// The saved rules with where they came from, oldest first.
    async fn saved_rules(&self, filter: &RuleFilter) -> Result<Vec<SavedRule>>;
    /// Revokes a saved rule ([`StoreError::RuleNotFound`] if there is none by that id);
    /// returns it as it was.
    async fn delete_rule(&self, id: i64) -> Result<SavedRule>;

    /// Keeps the profile as it was loaded for a run (what ran, even if the file changes).
    async fn record_profile(&self, profile: &AgentProfile, now: DateTime<Utc>) -> Result<()>;

    // Credentials (see [`credentials`]): rows hold hashes, never secrets.
    /// Stores a credential; a live token with the same name is
    /// [`StoreError::DuplicateName`]. A `local` one revokes the previous local token.
    async fn create_credential(&self, new: NewCredential<'_>, now: DateTime<Utc>) -> Result<Credential>;
    /// The credential whose secret hashes to `hash`, live or not.
    async fn credential_by_hash(&self, hash: &str) -> Result<Option<Credential>>;
    /// Records that it was used now, unless that was recorded less than
    /// [`credentials::SEEN_EVERY_SECS`] ago.
    async fn touch_credential(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// Revokes a live token or session ([`StoreError::CredentialNotFound`] if none),
    /// and the sessions made from it, in one transaction; returns it and their ids.
    async fn revoke_credential(&self, id: i64, now: DateTime<Utc>) -> Result<(Credential, Vec<i64>)>;
    /// Live tokens and sessions, oldest first.
    async fn credentials(&self, now: DateTime<Utc>) -> Result<Vec<Credential>>;
    /// Uses the pairing code whose secret hashes to `code` and creates its session, in
    /// one transaction; a used, expired or unknown code changes nothing.
    async fn exchange_pairing(&self, code: &str, session: SessionFor<'_>, now: DateTime<Utc>) -> Result<Pairing>;
}
