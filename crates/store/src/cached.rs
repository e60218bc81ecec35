//! [`CachedStore`]: any [`Store`] with the task list served from memory. It forwards
//! every operation to the store it wraps and keeps the list's JSON, fed by the
//! wrapped store's change feed ([`Store::changes`]): in process for SQLite, and for a
//! shared database the notifications its writers publish (PostgreSQL's LISTEN/NOTIFY).
//! Before answering a list it applies every change already reported, so a list that
//! starts after a write returned sees that write.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bosun_core::schedule::Waiting;
use bosun_core::task::{RunId, TaskId};
use bosun_core::{AgentProfile, Approval, Event, NewApproval, NewEvent, PullRequest, Run, Task, TaskEvent, TaskStatus};
use chrono::{DateTime, Utc};
use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::cache::{Need, TaskCache};
use crate::{
    Change, Credential, InboxMessage, LiveRun, NewCredential, NewRule, OrphanRun, Pairing, RepoCount, Result, RuleFilter, RunEnd,
    SavedRule, SessionFor, Store, StoreError, TaskFilter, TaskRecord,
};

pub struct CachedStore<S> {
    inner: S,
    cache: TaskCache,
    /// A std mutex: held only to drain the feed, never across an await.
    feed: Mutex<broadcast::Receiver<Change>>,
}

impl<S: Store> CachedStore<S> {
    pub fn new(inner: S) -> CachedStore<S> {
        let feed = Mutex::new(inner.changes());
        CachedStore { inner, cache: TaskCache::default(), feed }
    }

    /// Drops what the changes reported so far make stale.
    fn catch_up(&self) {
        let mut feed = self.feed.lock().unwrap();
        loop {
            match feed.try_recv() {
                Ok(Change::Task(id)) => self.cache.invalidate(id),
                Ok(Change::All) | Err(TryRecvError::Lagged(_)) => self.cache.invalidate_all(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}

#[async_trait]
impl<S: Store> Store for CachedStore<S> {
    fn changes(&self) -> broadcast::Receiver<Change> {
        self.inner.changes()
    }

    fn notify(&self) -> &dyn crate::notify::NotifyStore {
        self.inner.notify()
    }

    fn sources(&self) -> &dyn crate::sources::SourceStore {
        self.inner.sources()
    }

    fn ledger(&self) -> &dyn crate::ledger::LedgerStore {
        self.inner.ledger()
    }

    fn deliverables(&self) -> &dyn crate::deliverables::DeliverableStore {
        self.inner.deliverables()
    }

    fn pool(&self) -> &dyn crate::pool::PoolStore {
        self.inner.pool()
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    async fn list_tasks_json(&self, filter: &TaskFilter) -> Result<String> {
        // Writes may land while we refresh; a few rounds settle it, else read directly.
        for _ in 0..3 {
            self.catch_up();
            if let Some(json) = self.cache.list_json(filter) {
                return Ok(json);
            }
            match self.cache.need() {
                Need::Nothing => {}
                Need::Everything { epoch } => {
                    let all = self.inner.list_tasks(&TaskFilter::default()).await?;
                    self.catch_up();
                    self.cache.fill(epoch, true, &[], all);
                }
                Need::These { ids, epoch } => {
                    let mut found = Vec::with_capacity(ids.len());
                    for id in &ids {
                        match self.inner.get_task(*id).await {
                            Ok(t) => found.push(t),
                            Err(StoreError::TaskNotFound(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    self.catch_up();
                    self.cache.fill(epoch, false, &ids, found);
                }
            }
        }
        Ok(serde_json::to_string(&self.inner.list_tasks(filter).await?).expect("tasks serialize"))
    }

    async fn create_task(&self, task: TaskRecord, now: DateTime<Utc>) -> Result<Task> {
        self.inner.create_task(task, now).await
    }
    async fn get_task(&self, id: TaskId) -> Result<Task> {
        self.inner.get_task(id).await
    }
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        self.inner.list_tasks(filter).await
    }
    async fn queued_tasks(&self) -> Result<Vec<Task>> {
        self.inner.queued_tasks().await
    }
    async fn set_waits(&self, waits: &[(TaskId, Option<Waiting>)]) -> Result<Vec<TaskId>> {
        self.inner.set_waits(waits).await
    }
    async fn transition_task(
        &self,
        id: TaskId,
        from: TaskStatus,
        event: TaskEvent,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        self.inner.transition_task(id, from, event, reason, now).await
    }
    async fn transition_waiting(
        &self,
        id: TaskId,
        from: TaskStatus,
        event: TaskEvent,
        reason: Option<&str>,
        waiting: Option<&Waiting>,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        self.inner.transition_waiting(id, from, event, reason, waiting, now).await
    }
    async fn archive_tasks(&self, ids: &[TaskId], now: DateTime<Utc>) -> Result<Vec<TaskId>> {
        self.inner.archive_tasks(ids, now).await
    }
    async fn set_task_workspace(&self, id: TaskId, branch: Option<&str>, worktree: &str, now: DateTime<Utc>) -> Result<()> {
        self.inner.set_task_workspace(id, branch, worktree, now).await
    }
    async fn set_task_agent(&self, id: TaskId, agent: &str, now: DateTime<Utc>) -> Result<()> {
        self.inner.set_task_agent(id, agent, now).await
    }
    async fn edit_queued_task(&self, id: TaskId, edit: &crate::TaskEdit, now: DateTime<Utc>) -> Result<Task> {
        self.inner.edit_queued_task(id, edit, now).await
    }
    async fn set_task_model(&self, id: TaskId, model: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        self.inner.set_task_model(id, model, now).await
    }
    async fn start_run_with(&self, task_id: TaskId, start: &crate::RunStart<'_>, now: DateTime<Utc>) -> Result<(Task, Run)> {
        self.inner.start_run_with(task_id, start, now).await
    }
    async fn set_run_pid(&self, run_id: RunId, pid: i64) -> Result<()> {
        self.inner.set_run_pid(run_id, pid).await
    }
    async fn agent_started(&self, run_id: RunId, pid: i64, now: DateTime<Utc>) -> Result<()> {
        self.inner.agent_started(run_id, pid, now).await
    }
    async fn finish_run_with(
        &self,
        run_id: RunId,
        end: RunEnd,
        deliverables: &[crate::deliverables::NewDeliverable],
        now: DateTime<Utc>,
    ) -> Result<Task> {
        self.inner.finish_run_with(run_id, end, deliverables, now).await
    }
    async fn set_waiting(&self, run_id: RunId, waiting: bool, now: DateTime<Utc>) -> Result<Task> {
        self.inner.set_waiting(run_id, waiting, now).await
    }
    async fn live_runs(&self) -> Result<Vec<LiveRun>> {
        self.inner.live_runs().await
    }
    async fn interrupt_live_runs(&self, node: &str, keep: &[RunId], now: DateTime<Utc>) -> Result<Vec<OrphanRun>> {
        self.inner.interrupt_live_runs(node, keep, now).await
    }
    async fn append_events(&self, events: &[NewEvent], seen: &[(RunId, u64)]) -> Result<Vec<i64>> {
        self.inner.append_events(events, seen).await
    }
    async fn output_seen(&self, run_id: RunId) -> Result<u64> {
        self.inner.output_seen(run_id).await
    }
    async fn events(&self, task_id: TaskId, after: i64, limit: i64) -> Result<Vec<Event>> {
        self.inner.events(task_id, after, limit).await
    }
    async fn last_seq(&self, task_id: TaskId) -> Result<i64> {
        self.inner.last_seq(task_id).await
    }
    async fn dependents(&self, id: TaskId) -> Result<Vec<TaskId>> {
        self.inner.dependents(id).await
    }
    async fn dep_edges(&self) -> Result<HashMap<TaskId, Vec<TaskId>>> {
        self.inner.dep_edges().await
    }
    async fn add_deps(&self, id: TaskId, deps: &[TaskId], now: DateTime<Utc>) -> Result<Task> {
        self.inner.add_deps(id, deps, now).await
    }
    async fn set_pr(&self, id: TaskId, pr: &PullRequest, now: DateTime<Utc>) -> Result<Task> {
        self.inner.set_pr(id, pr, now).await
    }
    async fn set_merge_intent(&self, id: TaskId, strategy: &str, now: DateTime<Utc>) -> Result<()> {
        self.inner.set_merge_intent(id, strategy, now).await
    }
    async fn merge_intents(&self) -> Result<Vec<(TaskId, String)>> {
        self.inner.merge_intents().await
    }
    async fn clear_merge_intent(&self, id: TaskId) -> Result<()> {
        self.inner.clear_merge_intent(id).await
    }
    async fn repo_counts(&self) -> Result<Vec<RepoCount>> {
        self.inner.repo_counts().await
    }
    async fn run_token(&self, run_id: RunId) -> Result<String> {
        self.inner.run_token(run_id).await
    }
    async fn set_run_session(&self, run_id: RunId, session_id: &str) -> Result<()> {
        self.inner.set_run_session(run_id, session_id).await
    }
    async fn add_approval(&self, ask: NewApproval, now: DateTime<Utc>) -> Result<Approval> {
        self.inner.add_approval(ask, now).await
    }
    async fn approvals(&self, task_id: Option<TaskId>, pending_only: bool) -> Result<Vec<Approval>> {
        self.inner.approvals(task_id, pending_only).await
    }
    async fn answer_approval(
        &self,
        id: i64,
        allow: bool,
        by: &str,
        message: Option<&str>,
        always: Option<NewRule<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Approval> {
        self.inner.answer_approval(id, allow, by, message, always, now).await
    }
    async fn expire_approvals(&self, run_id: RunId, now: DateTime<Utc>) -> Result<()> {
        self.inner.expire_approvals(run_id, now).await
    }
    async fn reopen_with_message(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task> {
        self.inner.reopen_with_message(id, from, text, now).await
    }
    async fn reopen_to_resolve(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task> {
        self.inner.reopen_to_resolve(id, from, text, now).await
    }
    async fn queue_message(&self, task_id: TaskId, text: &str, now: DateTime<Utc>) -> Result<()> {
        self.inner.queue_message(task_id, text, now).await
    }
    async fn undelivered_messages(&self, task_id: TaskId) -> Result<Vec<InboxMessage>> {
        self.inner.undelivered_messages(task_id).await
    }
    async fn mark_delivered(&self, task_id: TaskId, up_to: i64, now: DateTime<Utc>) -> Result<()> {
        self.inner.mark_delivered(task_id, up_to, now).await
    }
    async fn allow_rules(&self, profile: &str, repo: Option<&str>) -> Result<Vec<String>> {
        self.inner.allow_rules(profile, repo).await
    }
    async fn saved_rules(&self, filter: &RuleFilter) -> Result<Vec<SavedRule>> {
        self.inner.saved_rules(filter).await
    }
    async fn delete_rule(&self, id: i64) -> Result<SavedRule> {
        self.inner.delete_rule(id).await
    }
    async fn record_profile(&self, profile: &AgentProfile, now: DateTime<Utc>) -> Result<()> {
        self.inner.record_profile(profile, now).await
    }

    async fn create_credential(&self, new: NewCredential<'_>, now: DateTime<Utc>) -> Result<Credential> {
        self.inner.create_credential(new, now).await
    }
    async fn credential_by_hash(&self, hash: &str) -> Result<Option<Credential>> {
        self.inner.credential_by_hash(hash).await
    }
    async fn touch_credential(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.inner.touch_credential(id, now).await
    }
    async fn revoke_credential(&self, id: i64, now: DateTime<Utc>) -> Result<(Credential, Vec<i64>)> {
        self.inner.revoke_credential(id, now).await
    }
    async fn credentials(&self, now: DateTime<Utc>) -> Result<Vec<Credential>> {
        self.inner.credentials(now).await
    }
    async fn exchange_pairing(&self, code: &str, session: SessionFor<'_>, now: DateTime<Utc>) -> Result<Pairing> {
        self.inner.exchange_pairing(code, session, now).await
    }
}
