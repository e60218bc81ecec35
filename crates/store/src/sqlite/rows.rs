//! Mapping SQLite rows to domain types, in one place so the column lists and the
//! readers cannot drift apart; and assembling tasks from their rows (runs,
//! dependencies).

use bosun_core::task::TaskId;
use bosun_core::{Event, EventKind, PrState, PullRequest, Run, RunStatus, Task, TaskStatus, Usage};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::tx::id_ranges;
use crate::{Approval, ApprovalStatus, Result, StoreError};

pub const TASK_COLUMNS: &str = "id, title, body, status, status_reason, waiting, resume, agent, model, assignee, source, budget_usd, repo, base, branch, worktree, tags, priority, created_at, updated_at, \
     pr_number, pr_url, pr_state, pr_draft, archived_at, \
     (SELECT json_object('source_id', l.source_id, 'kind', s.kind, 'reference', l.reference, 'url', l.url) \
        FROM external_links l JOIN sources s ON s.id = l.source_id WHERE l.task_id = tasks.id) AS origin";
pub const RUN_COLUMNS: &str = "id, task_id, agent, status, pid, exit_code, reason, started_at, ended_at, session_id, \
     input_tokens, output_tokens, cached_tokens, cost_usd, model";

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn time(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {v}")))
}

pub fn task_from_row(row: &SqliteRow) -> Result<Task> {
    let status: String = row.try_get("status")?;
    let tags: String = row.try_get("tags")?;
    Ok(Task {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        status: TaskStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("task status {status:?}")))?,
        status_reason: row.try_get("status_reason")?,
        waiting: {
            let waiting: Option<String> = row.try_get("waiting")?;
            waiting.map(|w| serde_json::from_str(&w)).transpose().map_err(|e| StoreError::Corrupt(format!("waiting: {e}")))?
        },
        agent: row.try_get("agent")?,
        model: row.try_get("model")?,
        assignee: row.try_get("assignee")?,
        source: row.try_get("source")?,
        budget: row.try_get("budget_usd")?,
        repo: row.try_get("repo")?,
        base: row.try_get("base")?,
        branch: row.try_get("branch")?,
        worktree: row.try_get("worktree")?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        priority: row.try_get("priority")?,
        after: Vec::new(),
        resume: row.try_get("resume")?,
        pr: pr_from_row(row)?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
        archived_at: row.try_get::<Option<i64>, _>("archived_at")?.map(time).transpose()?,
        origin: {
            let origin: Option<String> = row.try_get("origin")?;
            origin.map(|o| serde_json::from_str(&o)).transpose().map_err(|e| StoreError::Corrupt(format!("origin: {e}")))?
        },
        runs: Vec::new(),
    })
}

fn pr_from_row(row: &SqliteRow) -> Result<Option<PullRequest>> {
    let number: Option<i64> = row.try_get("pr_number")?;
    let Some(number) = number else { return Ok(None) };
    let state: Option<String> = row.try_get("pr_state")?;
    let state = state.as_deref().and_then(PrState::parse).ok_or_else(|| StoreError::Corrupt(format!("pr state {state:?}")))?;
    Ok(Some(PullRequest {
        number,
        url: row.try_get::<Option<String>, _>("pr_url")?.unwrap_or_default(),
        state,
        draft: row.try_get("pr_draft")?,
    }))
}

pub fn run_from_row(row: &SqliteRow) -> Result<Run> {
    let status: String = row.try_get("status")?;
    let ended: Option<i64> = row.try_get("ended_at")?;
    Ok(Run {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        agent: row.try_get("agent")?,
        status: RunStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("run status {status:?}")))?,
        pid: row.try_get("pid")?,
        exit_code: row.try_get("exit_code")?,
        reason: row.try_get("reason")?,
        started_at: time(row.try_get("started_at")?)?,
        ended_at: ended.map(time).transpose()?,
        session_id: row.try_get("session_id")?,
        model: row.try_get("model")?,
        usage: Usage {
            input_tokens: row.try_get::<i64, _>("input_tokens")? as u64,
            output_tokens: row.try_get::<i64, _>("output_tokens")? as u64,
            cached_tokens: row.try_get::<i64, _>("cached_tokens")? as u64,
            cost_usd: row.try_get("cost_usd")?,
        },
    })
}

pub fn event_from_row(row: &SqliteRow) -> Result<Event> {
    let data: String = row.try_get("data")?;
    let kind: EventKind = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("event: {e}")))?;
    let source: String = row.try_get("source")?;
    Ok(Event {
        source: source.try_into().map_err(StoreError::Corrupt)?,
        task_id: row.try_get("task_id")?,
        run_id: row.try_get("run_id")?,
        seq: row.try_get("seq")?,
        ts: time(row.try_get("ts")?)?,
        kind,
    })
}

pub const APPROVAL_COLUMNS: &str =
    "id, task_id, run_id, request_id, tool, kind, command, path, input, status, answered_by, message, created_at, answered_at";

pub fn approval_from_row(row: &SqliteRow) -> Result<Approval> {
    let kind: Option<String> = row.try_get("kind")?;
    let input: Option<String> = row.try_get("input")?;
    let answered: Option<i64> = row.try_get("answered_at")?;
    Ok(Approval {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        run_id: row.try_get("run_id")?,
        request_id: row.try_get("request_id")?,
        tool: row.try_get("tool")?,
        kind: kind.and_then(|k| serde_json::from_value(serde_json::Value::String(k)).ok()),
        command: row.try_get("command")?,
        path: row.try_get("path")?,
        input: input.and_then(|i| serde_json::from_str(&i).ok()),
        status: {
            let status: String = row.try_get("status")?;
            ApprovalStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("approval status {status:?}")))?
        },
        answered_by: row.try_get("answered_by")?,
        message: row.try_get("message")?,
        created_at: time(row.try_get("created_at")?)?,
        answered_at: answered.map(time).transpose()?,
    })
}

impl super::SqliteStore {
    pub(super) async fn runs_of(&self, task_ids: &[TaskId]) -> Result<Vec<Run>> {
        let mut runs = Vec::new();
        for range in id_ranges(task_ids) {
            let rows = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE task_id BETWEEN ? AND ? ORDER BY task_id, id"))
                .bind(range.0)
                .bind(range.1)
                .fetch_all(&self.pool)
                .await?;
            runs.extend(rows.iter().map(run_from_row).collect::<Result<Vec<_>>>()?);
        }
        Ok(runs)
    }

    /// Fills in the runs and dependencies of `tasks` (sorted by id).
    pub(super) async fn with_runs(&self, mut tasks: Vec<Task>) -> Result<Vec<Task>> {
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
        let mut by_task: std::collections::HashMap<TaskId, Vec<TaskId>> = std::collections::HashMap::new();
        for (lo, hi) in id_ranges(&ids) {
            let deps: Vec<(i64, i64)> =
                sqlx::query_as("SELECT task_id, dep_id FROM task_deps WHERE task_id BETWEEN ? AND ? ORDER BY task_id, dep_id")
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(&self.pool)
                    .await?;
            for (task, dep) in deps {
                by_task.entry(task).or_default().push(dep);
            }
        }
        for task in &mut tasks {
            task.after = by_task.remove(&task.id).unwrap_or_default();
        }
        let runs = self.runs_of(&ids).await?;
        let mut by_task: std::collections::HashMap<TaskId, Vec<Run>> = std::collections::HashMap::new();
        for run in runs {
            by_task.entry(run.task_id).or_default().push(run);
        }
        for task in &mut tasks {
            task.runs = by_task.remove(&task.id).unwrap_or_default();
        }
        Ok(tasks)
    }
}
