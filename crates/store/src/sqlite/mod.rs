//! The SQLite [`Store`](crate::Store): `<data-dir>/bosun.db`, WAL mode, migrations
//! applied at open, one transaction per domain operation.

mod approvals;
mod credentials;
mod deliverables;
mod deps;
mod error;
mod events;
mod inbox;
mod ledger;
mod notify;
mod pool;
mod prs;
mod rows;
mod runs;
mod sources;
mod tx;

use tx::{WRITE, insert_task, transition_in};

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bosun_core::schedule::Waiting;
use bosun_core::task::{RunId, TaskId};
use bosun_core::{AgentProfile, Event, NewEvent, PullRequest, Run, RunStatus, Task, TaskEvent, TaskStatus};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use tokio::sync::broadcast;

use crate::{
    Approval, Change, Credential, InboxMessage, LiveRun, NewApproval, NewCredential, NewRule, OrphanRun, Pairing, RepoCount, Result,
    RuleFilter, RunEnd, SavedRule, SessionFor, Store, StoreError, TaskFilter, TaskRecord,
};
use rows::{RUN_COLUMNS, TASK_COLUMNS, ms, run_from_row, task_from_row};

/// Migrations in order; `PRAGMA user_version` records how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema2.sql"),
    include_str!("schema3.sql"),
    include_str!("schema4.sql"),
    include_str!("schema5.sql"),
    include_str!("schema6.sql"),
    include_str!("schema7.sql"),
    include_str!("schema8.sql"),
    include_str!("schema9.sql"),
    include_str!("schema10.sql"),
    include_str!("schema11.sql"),
    include_str!("schema12.sql"),
    include_str!("schema13.sql"),
    include_str!("schema14.sql"),
    include_str!("schema15.sql"),
    include_str!("schema16.sql"),
    include_str!("schema17.sql"),
    include_str!("schema18.sql"),
];

/// Changes a slow cache may fall behind by before it is told to drop everything.
const CHANGES: usize = 4096;

/// Events per INSERT statement: well under SQLite's limit on bound variables.
const EVENT_BATCH: usize = 400;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Every write says which tasks it touched (for caches; see [`Store::changes`]).
    changes: broadcast::Sender<Change>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        Self::connect(options, 8).await
    }

    /// A private in-memory database (tests, benchmarks of the pure store).
    pub async fn in_memory() -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to :memory: is a different database.
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, max: u32) -> Result<SqliteStore> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            // A transaction SQLite ended by itself (on SQLITE_FULL it rolls back) leaves
            // the connection believing it is still in one, so its ROLLBACK fails and
            // every later BEGIN on it would too: such a connection is closed, not reused,
            // and the store goes on by itself once space returns.
            .before_acquire(|conn, _| Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) }))
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool, changes: broadcast::channel(CHANGES).0 };
        store.migrate().await?;
        Ok(store)
    }

    /// SQLite's `PRAGMA quick_check`: the problems it finds (none: the file is whole).
    pub async fn quick_check(&self) -> Result<Vec<String>> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA quick_check").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *tx).await?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1)).execute(&mut *tx).await?;
            tracing::info!(version = i + 1, "applied migration");
        }
        tx.commit().await?;
        Ok(())
    }

    /// After an UPDATE of task `id`: none matched means no such task; else its cached
    /// copy is stale.
    fn wrote_task(&self, id: TaskId, done: sqlx::sqlite::SqliteQueryResult) -> Result<()> {
        if done.rows_affected() == 0 {
            return Err(StoreError::TaskNotFound(id));
        }
        self.changed(id);
        Ok(())
    }

    /// A reply: the task reopened and its message kept, in one transaction.
    async fn reopen(&self, id: TaskId, from: TaskStatus, text: &str, resolve: bool, now: DateTime<Utc>) -> Result<Task> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        transition_in(&mut tx, id, Some(from), TaskEvent::Reopened, None, now).await?;
        sqlx::query("INSERT INTO inbox (task_id, text, resolve, created_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(text)
            .bind(resolve)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed(id);
        self.get_task(id).await
    }

    fn changed(&self, id: TaskId) {
        let _ = self.changes.send(Change::Task(id));
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn notify(&self) -> &dyn crate::notify::NotifyStore {
        self
    }

    fn sources(&self) -> &dyn crate::sources::SourceStore {
        self
    }

    fn ledger(&self) -> &dyn crate::ledger::LedgerStore {
        self
    }

    fn deliverables(&self) -> &dyn crate::deliverables::DeliverableStore {
        self
    }

    fn pool(&self) -> &dyn crate::pool::PoolStore {
        self
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn create_task(&self, task: TaskRecord, now: DateTime<Utc>) -> Result<Task> {
        let mut tx = self.pool.begin().await?;
        let id = insert_task(&mut tx, &task, now).await?;
        tx.commit().await?;
        self.changed(id);
        self.get_task(id).await
    }

    async fn get_task(&self, id: TaskId) -> Result<Task> {
        let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::TaskNotFound(id))?;
        let task = task_from_row(&row)?;
        Ok(self.with_runs(vec![task]).await?.remove(0))
    }

    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1=1"));
        if !filter.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut sep = q.separated(", ");
            for s in &filter.statuses {
                sep.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(repo) = &filter.repo {
            q.push(" AND repo = ").push_bind(repo);
        }
        if let Some(agent) = &filter.agent {
            q.push(" AND agent = ").push_bind(agent);
        }
        if let Some(tag) = &filter.tag {
            q.push(" AND EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE value = ").push_bind(tag).push(")");
        }
        if let Some(after) = filter.after_id {
            q.push(" AND id > ").push_bind(after);
        }
        if let Some(archived) = filter.archived {
            q.push(if archived { " AND archived_at IS NOT NULL" } else { " AND archived_at IS NULL" });
        }
        q.push(" ORDER BY id");
        if let Some(limit) = filter.limit {
            q.push(" LIMIT ").push_bind(limit);
        }
        let rows = q.build().fetch_all(&self.pool).await?;
        let tasks = rows.iter().map(task_from_row).collect::<Result<Vec<_>>>()?;
        self.with_runs(tasks).await
    }

    async fn queued_tasks(&self) -> Result<Vec<Task>> {
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks
             WHERE (status = 'queued' OR (status = 'blocked' AND json_extract(waiting, '$.kind') = 'budget'))
             AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks dep ON dep.id = d.dep_id
                             WHERE d.task_id = tasks.id AND dep.status != 'done')
             ORDER BY priority DESC, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    async fn set_waits(&self, waits: &[(TaskId, Option<Waiting>)]) -> Result<Vec<TaskId>> {
        let mut written = Vec::new();
        let mut tx = self.pool.begin_with(WRITE).await?;
        for (id, waiting) in waits {
            let json = waiting.as_ref().map(|w| serde_json::to_string(w).expect("waits serialize"));
            let done = sqlx::query("UPDATE tasks SET waiting = ? WHERE id = ? AND status IN ('queued', 'blocked') AND waiting IS NOT ?")
                .bind(&json)
                .bind(id)
                .bind(&json)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                written.push(*id);
            }
        }
        tx.commit().await?;
        for id in &written {
            self.changed(*id);
        }
        Ok(written)
    }

    async fn transition_task(
        &self,
        id: TaskId,
        from: TaskStatus,
        event: TaskEvent,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        transition_in(&mut tx, id, Some(from), event, reason, now).await?;
        tx.commit().await?;
        self.changed(id);
        self.get_task(id).await
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
        let mut tx = self.pool.begin_with(WRITE).await?;
        transition_in(&mut tx, id, Some(from), event, reason, now).await?;
        let json = waiting.map(|w| serde_json::to_string(w).expect("waits serialize"));
        sqlx::query("UPDATE tasks SET waiting = ? WHERE id = ?").bind(json).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.changed(id);
        self.get_task(id).await
    }

    async fn set_task_workspace(&self, id: TaskId, branch: Option<&str>, worktree: &str, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE tasks SET branch = ?, worktree = ?, updated_at = ? WHERE id = ?")
            .bind(branch)
            .bind(worktree)
            .bind(ms(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.wrote_task(id, done)
    }

    async fn archive_tasks(&self, ids: &[TaskId], now: DateTime<Utc>) -> Result<Vec<TaskId>> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let mut archived = Vec::new();
        for &id in ids {
            let done =
                sqlx::query("UPDATE tasks SET archived_at = ? WHERE id = ? AND archived_at IS NULL AND status IN ('done', 'discarded')")
                    .bind(ms(now))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() > 0 {
                archived.push(id);
            }
        }
        tx.commit().await?;
        for &id in &archived {
            self.changed(id);
        }
        Ok(archived)
    }

    async fn edit_queued_task(&self, id: TaskId, edit: &crate::TaskEdit, now: DateTime<Utc>) -> Result<Task> {
        let tags = edit.tags.as_ref().map(|t| serde_json::to_string(t).expect("strings serialize"));
        let done = sqlx::query(
            "UPDATE tasks SET title = COALESCE(?, title), body = COALESCE(?, body), tags = COALESCE(?, tags),
                priority = COALESCE(?, priority), agent = CASE WHEN ? THEN ? ELSE agent END, updated_at = ?
             WHERE id = ? AND status = ?",
        )
        .bind(edit.title.as_deref())
        .bind(edit.body.as_deref())
        .bind(tags)
        .bind(edit.priority)
        .bind(edit.agent.is_some())
        .bind(edit.agent.clone().flatten())
        .bind(ms(now))
        .bind(id)
        .bind(TaskStatus::Queued.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            let task = self.get_task(id).await?;
            return Err(StoreError::StatusChanged { id, expected: TaskStatus::Queued, actual: task.status });
        }
        self.changed(id);
        self.get_task(id).await
    }

    async fn set_task_agent(&self, id: TaskId, agent: &str, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE tasks SET agent = ?, updated_at = ? WHERE id = ?")
            .bind(agent)
            .bind(ms(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.wrote_task(id, done)
    }

    async fn set_task_model(&self, id: TaskId, model: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE tasks SET model = ?, updated_at = ? WHERE id = ?")
            .bind(model)
            .bind(ms(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.wrote_task(id, done)
    }

    async fn start_run_with(&self, task_id: TaskId, start: &crate::RunStart<'_>, now: DateTime<Utc>) -> Result<(Task, Run)> {
        self.start_run_in(task_id, start, now).await
    }

    async fn set_run_pid(&self, run_id: RunId, pid: i64) -> Result<()> {
        self.set_run_pid_in(run_id, pid).await
    }

    async fn agent_started(&self, run_id: RunId, pid: i64, now: DateTime<Utc>) -> Result<()> {
        self.agent_started_in(run_id, pid, now).await
    }

    async fn finish_run_with(
        &self,
        run_id: RunId,
        end: RunEnd,
        items: &[crate::deliverables::NewDeliverable],
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let task_id: Option<i64> = sqlx::query_scalar(
            "UPDATE runs SET status = ?, exit_code = ?, reason = ?, ended_at = ?
             WHERE id = ? AND status IN ('starting', 'running', 'needs_input') RETURNING task_id",
        )
        .bind(end.status.as_str())
        .bind(end.exit_code)
        .bind(&end.reason)
        .bind(ms(now))
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await?;
        let task_id = task_id.ok_or(StoreError::RunNotFound(run_id))?;
        deliverables::insert_in(&mut tx, task_id, run_id, items, now).await?;
        let reason = if end.task_event == (TaskEvent::Finished { success: true }) { None } else { end.reason.as_deref() };
        transition_in(&mut tx, task_id, None, end.task_event, reason, now).await?;
        tx.commit().await?;
        self.changed(task_id);
        self.get_task(task_id).await
    }

    async fn set_waiting(&self, run_id: RunId, waiting: bool, now: DateTime<Utc>) -> Result<Task> {
        let (from, to, event) = if waiting {
            (RunStatus::Running, RunStatus::NeedsInput, TaskEvent::AwaitingInput)
        } else {
            (RunStatus::NeedsInput, RunStatus::Running, TaskEvent::InputGiven)
        };
        let mut tx = self.pool.begin_with(WRITE).await?;
        let task_id: Option<i64> = sqlx::query_scalar("UPDATE runs SET status = ? WHERE id = ? AND status = ? RETURNING task_id")
            .bind(to.as_str())
            .bind(run_id)
            .bind(from.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let task_id = task_id.ok_or(StoreError::RunNotFound(run_id))?;
        transition_in(&mut tx, task_id, None, event, None, now).await?;
        tx.commit().await?;
        self.changed(task_id);
        self.get_task(task_id).await
    }

    async fn live_runs(&self) -> Result<Vec<LiveRun>> {
        let rows: Vec<(i64, i64, String, String)> =
            sqlx::query_as("SELECT task_id, id, agent, node FROM runs WHERE status IN ('starting', 'running', 'needs_input') ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(task_id, run_id, agent, node)| LiveRun { task_id, run_id, agent, node }).collect())
    }

    async fn interrupt_live_runs(&self, node: &str, keep: &[RunId], now: DateTime<Utc>) -> Result<Vec<OrphanRun>> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS}, token FROM runs WHERE status IN ('starting', 'running', 'needs_input') AND node = ?"
        ))
        .bind(node)
        .fetch_all(&mut *tx)
        .await?;
        let rows: Vec<_> = rows.into_iter().filter(|row| !keep.contains(&row.get::<i64, _>("id"))).collect();
        let reason = crate::HOLDER_GONE;
        let mut orphans = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut run = run_from_row(row)?;
            let token: String = row.try_get("token")?;
            sqlx::query("UPDATE runs SET status = 'interrupted', reason = ?, ended_at = ? WHERE id = ?")
                .bind(reason)
                .bind(ms(now))
                .bind(run.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE approvals SET status = 'expired', answered_at = ? WHERE run_id = ? AND status = 'pending'")
                .bind(ms(now))
                .bind(run.id)
                .execute(&mut *tx)
                .await?;
            run.status = RunStatus::Interrupted;
            run.reason = Some(reason.into());
            orphans.push(OrphanRun { run, token });
        }
        // Their tasks, and tasks left running with no live run on any node (an older
        // daemon may have left them), become interrupted through the state machine.
        let stranded: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tasks WHERE status IN ('running', 'needs_input')
             AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.task_id = tasks.id AND r.status IN ('starting', 'running', 'needs_input'))",
        )
        .fetch_all(&mut *tx)
        .await?;
        for id in stranded {
            transition_in(&mut tx, id, None, TaskEvent::Interrupted, Some(crate::HOLDER_GONE), now).await?;
        }
        tx.commit().await?;
        let _ = self.changes.send(Change::All);
        Ok(orphans)
    }

    async fn append_events(&self, events: &[NewEvent], seen: &[(RunId, u64)]) -> Result<Vec<i64>> {
        self.append_events_in(events, seen).await
    }

    async fn output_seen(&self, run_id: RunId) -> Result<u64> {
        let seen: Option<i64> =
            sqlx::query_scalar("SELECT output_seen FROM runs WHERE id = ?").bind(run_id).fetch_optional(&self.pool).await?;
        Ok(seen.unwrap_or(0) as u64)
    }

    async fn events(&self, task_id: TaskId, after: i64, limit: i64) -> Result<Vec<Event>> {
        let rows =
            sqlx::query("SELECT task_id, seq, run_id, ts, source, data FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?")
                .bind(task_id)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::event_from_row).collect()
    }

    async fn last_seq(&self, task_id: TaskId) -> Result<i64> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE task_id = ?").bind(task_id).fetch_one(&self.pool).await?;
        Ok(seq.unwrap_or(0))
    }

    async fn dependents(&self, id: TaskId) -> Result<Vec<TaskId>> {
        self.dependents_in(id).await
    }

    async fn dep_edges(&self) -> Result<HashMap<TaskId, Vec<TaskId>>> {
        self.dep_edges_in().await
    }

    async fn add_deps(&self, id: TaskId, deps: &[TaskId], now: DateTime<Utc>) -> Result<Task> {
        self.add_deps_in(id, deps, now).await
    }

    async fn set_pr(&self, id: TaskId, pr: &PullRequest, now: DateTime<Utc>) -> Result<Task> {
        self.set_pr_in(id, pr, now).await
    }

    async fn set_merge_intent(&self, id: TaskId, strategy: &str, now: DateTime<Utc>) -> Result<()> {
        self.set_merge_intent_in(id, strategy, now).await
    }

    async fn merge_intents(&self) -> Result<Vec<(TaskId, String)>> {
        self.merge_intents_in().await
    }

    async fn clear_merge_intent(&self, id: TaskId) -> Result<()> {
        self.clear_merge_intent_in(id).await
    }

    async fn repo_counts(&self) -> Result<Vec<RepoCount>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT repo, status, COUNT(*) FROM tasks WHERE repo IS NOT NULL GROUP BY repo, status ORDER BY repo, status")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(repo, status, n)| {
                let status = TaskStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("task status {status:?}")))?;
                Ok(RepoCount { repo, status, tasks: n })
            })
            .collect()
    }

    async fn run_token(&self, run_id: RunId) -> Result<String> {
        let token: Option<String> =
            sqlx::query_scalar("SELECT token FROM runs WHERE id = ?").bind(run_id).fetch_optional(&self.pool).await?;
        token.ok_or(StoreError::RunNotFound(run_id))
    }

    async fn set_run_session(&self, run_id: RunId, session_id: &str) -> Result<()> {
        sqlx::query("UPDATE runs SET session_id = ? WHERE id = ?").bind(session_id).bind(run_id).execute(&self.pool).await?;
        Ok(())
    }

    async fn add_approval(&self, ask: NewApproval, now: DateTime<Utc>) -> Result<Approval> {
        self.add_approval_in(ask, now).await
    }

    async fn approvals(&self, task_id: Option<TaskId>, pending_only: bool) -> Result<Vec<Approval>> {
        self.approvals_in(task_id, pending_only).await
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
        self.answer_approval_in(id, allow, by, message, always, now).await
    }

    async fn expire_approvals(&self, run_id: RunId, now: DateTime<Utc>) -> Result<()> {
        self.expire_approvals_in(run_id, now).await
    }

    async fn reopen_with_message(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task> {
        self.reopen(id, from, text, false, now).await
    }

    async fn reopen_to_resolve(&self, id: TaskId, from: TaskStatus, text: &str, now: DateTime<Utc>) -> Result<Task> {
        self.reopen(id, from, text, true, now).await
    }

    async fn queue_message(&self, task_id: TaskId, text: &str, now: DateTime<Utc>) -> Result<()> {
        self.queue_message_in(task_id, text, now).await
    }

    async fn undelivered_messages(&self, task_id: TaskId) -> Result<Vec<InboxMessage>> {
        self.undelivered_in(task_id).await
    }

    async fn mark_delivered(&self, task_id: TaskId, up_to: i64, now: DateTime<Utc>) -> Result<()> {
        self.mark_delivered_in(task_id, up_to, now).await
    }

    async fn allow_rules(&self, profile: &str, repo: Option<&str>) -> Result<Vec<String>> {
        self.allow_rules_in(profile, repo).await
    }

    async fn saved_rules(&self, filter: &RuleFilter) -> Result<Vec<SavedRule>> {
        self.saved_rules_in(filter).await
    }

    async fn delete_rule(&self, id: i64) -> Result<SavedRule> {
        self.delete_rule_in(id).await
    }

    async fn record_profile(&self, profile: &AgentProfile, now: DateTime<Utc>) -> Result<()> {
        let source = profile.source.clone().unwrap_or_else(|| format!("<inline:{}>", profile.name));
        sqlx::query(
            "INSERT INTO profiles (source, name, data, loaded_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (source) DO UPDATE SET name = excluded.name, data = excluded.data, loaded_at = excluded.loaded_at",
        )
        .bind(source)
        .bind(&profile.name)
        .bind(serde_json::to_string(profile).expect("profiles serialize"))
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_credential(&self, new: NewCredential<'_>, now: DateTime<Utc>) -> Result<Credential> {
        self.create_credential_in(new, now).await
    }
    async fn credential_by_hash(&self, hash: &str) -> Result<Option<Credential>> {
        self.credential_by_hash_in(hash).await
    }
    async fn touch_credential(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.touch_credential_in(id, now).await
    }
    async fn revoke_credential(&self, id: i64, now: DateTime<Utc>) -> Result<(Credential, Vec<i64>)> {
        self.revoke_credential_in(id, now).await
    }
    async fn credentials(&self, now: DateTime<Utc>) -> Result<Vec<Credential>> {
        self.credentials_in(now).await
    }
    async fn exchange_pairing(&self, code: &str, session: SessionFor<'_>, now: DateTime<Utc>) -> Result<Pairing> {
        self.exchange_pairing_in(code, session, now).await
    }
}
