//! Mapping SQLite rows to domain types, in one place so the column lists and the
//! readers cannot drift apart.

use bosun_core::{Event, EventKind, PrState, PullRequest, Run, RunStatus, Task, TaskStatus, Usage};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Approval, ApprovalStatus, Result, StoreError};

pub const TASK_COLUMNS: &str = "id, title, body, status, status_reason, agent, repo, base, branch, worktree, tags, priority, created_at, updated_at, \
     pr_number, pr_url, pr_state, pr_draft";
pub const RUN_COLUMNS: &str = "id, task_id, agent, status, pid, exit_code, reason, started_at, ended_at, \
     input_tokens, output_tokens, cached_tokens, cost_usd";

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(v: i64) -> Result<DateTime<Utc>> {
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
        agent: row.try_get("agent")?,
        repo: row.try_get("repo")?,
        base: row.try_get("base")?,
        branch: row.try_get("branch")?,
        worktree: row.try_get("worktree")?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        priority: row.try_get("priority")?,
        after: Vec::new(),
        pr: pr_from_row(row)?,
        created_at: time(row.try_get("created_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
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
