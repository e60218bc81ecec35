//! A run's start, each in one transaction: the run created with its task moved to
//! running, its agent, reservation and (a first run's) workspace recorded; then its
//! agent's pid, with the messages the agent was handed marked delivered.

use bosun_core::task::{RunId, TaskId};
use bosun_core::{Run, RunStatus, Task, TaskEvent, TaskStatus};
use chrono::{DateTime, Utc};

use super::rows::ms;
use super::tx::{WRITE, transition_in};
use super::{SqliteStore, inbox, ledger};
use crate::{Result, RunStart, Store, StoreError};

impl SqliteStore {
    pub(super) async fn start_run_in(&self, task_id: TaskId, start: &RunStart<'_>, now: DateTime<Utc>) -> Result<(Task, Run)> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        transition_in(&mut tx, task_id, Some(TaskStatus::Queued), TaskEvent::Dispatched, None, now).await?;
        let inserted =
            sqlx::query("INSERT INTO runs (task_id, agent, status, token, node, started_at, model) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(task_id)
                .bind(start.agent)
                .bind(RunStatus::Starting.as_str())
                .bind(start.token)
                .bind(start.node)
                .bind(ms(now))
                .bind(start.model)
                .execute(&mut *tx)
                .await?;
        if let Some((amount, budgets)) = &start.reserve {
            ledger::reserve_in(&mut tx, inserted.last_insert_rowid(), task_id, start.agent, *amount, budgets, now).await?;
        }
        // The agent that runs it is the task's, and its workspace (a first run's), in
        // the same transaction.
        sqlx::query("UPDATE tasks SET agent = ?1 WHERE id = ?2 AND agent IS NOT ?1")
            .bind(start.agent)
            .bind(task_id)
            .execute(&mut *tx)
            .await?;
        if let Some(ws) = &start.workspace {
            sqlx::query("UPDATE tasks SET branch = ?, worktree = ? WHERE id = ? AND worktree IS NULL")
                .bind(ws.branch)
                .bind(ws.worktree)
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.changed(task_id);
        let task = self.get_task(task_id).await?;
        let run = task.runs.last().cloned().ok_or_else(|| StoreError::Corrupt("run vanished".into()))?;
        Ok((task, run))
    }

    pub(super) async fn set_run_pid_in(&self, run_id: RunId, pid: i64) -> Result<()> {
        let task_id = run_pid_in(&mut *self.pool.acquire().await?, run_id, pid).await?;
        self.changed(task_id);
        Ok(())
    }

    /// The run's agent started with every queued message in its prompt: its pid and
    /// the messages' delivery, in one transaction.
    pub(super) async fn agent_started_in(&self, run_id: RunId, pid: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let task_id = run_pid_in(&mut tx, run_id, pid).await?;
        inbox::mark_delivered_tx(&mut tx, task_id, i64::MAX, now).await?;
        tx.commit().await?;
        self.changed(task_id);
        Ok(())
    }
}

/// Records the pid of run `run_id`'s agent and marks the run running (it must be
/// starting). Returns the run's task.
async fn run_pid_in(tx: &mut sqlx::SqliteConnection, run_id: RunId, pid: i64) -> Result<TaskId> {
    let task_id: Option<i64> =
        sqlx::query_scalar("UPDATE runs SET pid = ?, status = 'running' WHERE id = ? AND status = 'starting' RETURNING task_id")
            .bind(pid)
            .bind(run_id)
            .fetch_optional(&mut *tx)
            .await?;
    task_id.ok_or(StoreError::RunNotFound(run_id))
}
