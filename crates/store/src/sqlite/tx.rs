//! What the SQLite store's operations share inside a transaction: the one place a
//! task's status is written (through the state machine, compare-and-set), how write
//! transactions begin, inserting a task, and id ranges for batched reads. A transition that notifies
//! writes its notification (the outbox row) in the same transaction, and one of a task
//! made of a source's item queues the item's write-back there too.

use bosun_core::task::TaskId;
use bosun_core::{TaskEvent, TaskStatus};
use chrono::{DateTime, Utc};

use super::rows::ms;
use crate::{Result, StoreError, TaskRecord};

/// Id ranges covering `ids` (sorted ascending) for range scans: consecutive ids share a
/// range, and a gap wider than a few ids starts a new one, so a sparse selection (ids 1,
/// 2 and 10,000) does not read everything in between.
pub fn id_ranges(ids: &[TaskId]) -> Vec<(TaskId, TaskId)> {
    const GAP: TaskId = 16;
    let mut ranges: Vec<(TaskId, TaskId)> = Vec::new();
    for &id in ids {
        match ranges.last_mut() {
            Some(r) if id >= r.0 && id - r.1 <= GAP => r.1 = r.1.max(id),
            _ => ranges.push((id, id)),
        }
    }
    ranges
}

/// Applies `event` to task `id` inside `tx`: reads its status (which must be `from`,
/// when given), computes the next one with [`TaskStatus::apply`], and writes it only
/// if the row still holds what was read. Returns the new status. What the task waited
/// for goes with the old status (the dispatcher says it anew for a queued one); a task
/// queued again learns whether its next run continues the agent's session.
pub async fn transition_in(
    tx: &mut sqlx::SqliteConnection,
    id: TaskId,
    from: Option<TaskStatus>,
    event: TaskEvent,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TaskStatus> {
    let current: Option<String> = sqlx::query_scalar("SELECT status FROM tasks WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
    let current = current.ok_or(StoreError::TaskNotFound(id))?;
    let current = TaskStatus::parse(&current).ok_or_else(|| StoreError::Corrupt(format!("task status {current:?}")))?;
    if let Some(expected) = from.filter(|f| *f != current) {
        return Err(StoreError::StatusChanged { id, expected, actual: current });
    }
    let next = current.apply(event)?;
    // A run that is queued again continues the last session if the event says so and
    // there is one (otherwise the flag is kept: it is for the run about to start).
    let done = sqlx::query(
        "UPDATE tasks SET status = ?1, status_reason = ?2, waiting = NULL,
           resume = CASE WHEN ?3 IS NULL THEN resume
                         ELSE ?3 AND EXISTS (SELECT 1 FROM runs WHERE task_id = tasks.id AND session_id IS NOT NULL) END,
           updated_at = ?4
         WHERE id = ?5 AND status = ?6",
    )
    .bind(next.as_str())
    .bind(reason)
    .bind(current.continues_session(event))
    .bind(ms(now))
    .bind(id)
    .bind(current.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Corrupt(format!("task {id} changed inside a write transaction")));
    }
    // A transition that notifies writes its outbox row here, in the same transaction.
    if let Some(kind) = bosun_core::notify::on_transition(current, event, next) {
        super::notify::outbox_in(tx, id, kind, reason, now).await?;
    }
    // A task made of a source's item queues what the item should now show.
    super::sources::queue_write_in(tx, id, current, next, now).await?;
    // A merge under way ends with the task's next status, whichever it is.
    sqlx::query("DELETE FROM merge_intents WHERE task_id = ?").bind(id).execute(&mut *tx).await?;
    Ok(next)
}

/// Writes run in their own transactions from the start (`BEGIN IMMEDIATE`): a
/// transaction that reads and then writes (seqs, compare-and-set) never has to
/// upgrade its lock, which under concurrent writers would fail instead of waiting.
pub const WRITE: &str = "BEGIN IMMEDIATE";

/// Inserts a queued task and its dependencies inside `tx`.
pub(super) async fn insert_task(tx: &mut sqlx::SqliteConnection, task: &TaskRecord, now: DateTime<Utc>) -> Result<TaskId> {
    let tags = serde_json::to_string(&task.new.tags).expect("strings serialize");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (title, body, status, agent, model, assignee, source, budget_usd, repo, base, tags, priority, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(task.new.title.trim())
    .bind(&task.new.body)
    .bind(TaskStatus::Queued.as_str())
    .bind(&task.new.agent)
    .bind(&task.new.model)
    .bind(task.new.assignee.as_deref().map(str::trim))
    .bind(task.new.source.as_deref().unwrap_or("cli"))
    .bind(task.new.budget)
    .bind(&task.repo)
    .bind(&task.base)
    .bind(tags)
    .bind(task.new.priority)
    .bind(ms(now))
    .bind(ms(now))
    .fetch_one(&mut *tx)
    .await?;
    for dep in &task.new.after {
        sqlx::query("INSERT OR IGNORE INTO task_deps (task_id, dep_id) VALUES (?, ?)").bind(id).bind(dep).execute(&mut *tx).await.map_err(
            |e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::TaskNotFound(*dep),
                _ => e.into(),
            },
        )?;
    }
    Ok(id)
}
