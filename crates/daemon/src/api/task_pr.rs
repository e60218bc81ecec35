//! `POST /api/tasks/{id}/pr`: push a reviewed task's branch over the repo's remote
//! and open a pull request for it (or, with `refresh`, read the PR's state; a merged
//! PR makes the task done). The PR's URL is stored on the task.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::{EventKind, PrState, Task, TaskEvent, TaskStatus};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::github::{self, Forge};
use crate::{Daemon, cleanup};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrRequest {
    /// Open it as a draft.
    #[serde(default)]
    pub draft: bool,
    /// Only read the existing PR's state.
    #[serde(default)]
    pub refresh: bool,
}

#[utoipa::path(post, path = "/api/tasks/{id}/pr", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<PrRequest>),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pr(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>, body: Bytes) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let req: PrRequest = super::optional_json(&body)?;
    let task = daemon.store.get_task(id).await?;
    if req.refresh || task.pr.as_ref().is_some_and(|p| p.state != PrState::Closed) {
        return Ok(Json(refresh(&daemon, task).await.map_err(ApiError::Conflict)?));
    }
    if task.status != TaskStatus::Review {
        return Err(ApiError::Conflict(format!("T-{id} is {}: open a pull request once it is in review", task.status)));
    }
    let (Some(base), Some(branch)) = (task.base.clone(), task.branch.clone()) else {
        return Err(ApiError::Conflict(format!("T-{id} has no branch")));
    };
    let repo = github::repo_of(&task).await.map_err(ApiError::Conflict)?;
    let forge = Forge::for_repo(&repo).await.map_err(ApiError::Conflict)?;
    {
        let lock = daemon.repo_lock(&repo.root().to_string_lossy());
        let _serial = lock.lock().await;
        repo.push(&forge.remote, &branch).await.map_err(|e| ApiError::Conflict(e.to_string()))?;
    }
    let summary = last_message(&daemon, id).await;
    let link = format!("{}/tasks/{id}", daemon.config.public_url);
    let body = github::pr_body(&task, summary.as_deref(), &link);
    let pr = forge.open(&branch, &base, &task.title, &body, req.draft).await.map_err(ApiError::Conflict)?;
    daemon.hub.emit(id, 0, EventKind::status("pr", format!("pull request #{} opened: {}", pr.number, pr.url))).await;
    let task = daemon.store.set_pr(id, &pr, Utc::now()).await?;
    daemon.publish(&task);
    Ok(Json(task))
}

/// Reads the PR's state from the forge and stores it; a merged PR makes a task in
/// review done, and its (clean) worktree is removed.
pub async fn refresh(daemon: &Daemon, task: Task) -> Result<Task, String> {
    let Some(pr) = &task.pr else {
        return Err(format!("T-{} has no pull request", task.id));
    };
    let repo = github::repo_of(&task).await?;
    let forge = Forge::for_repo(&repo).await?;
    let now = forge.get(pr.number).await?;
    let changed = now != *pr;
    let mut task = if changed { daemon.store.set_pr(task.id, &now, Utc::now()).await.map_err(|e| e.to_string())? } else { task };
    if now.state == PrState::Merged && task.status == TaskStatus::Review {
        let next = task.status.apply(TaskEvent::Merged).map_err(|e| e.to_string())?;
        let reason = format!("pull request #{} merged", now.number);
        daemon.hub.emit(task.id, 0, EventKind::status("done", reason.clone())).await;
        daemon.hub.flush().await;
        task = daemon.store.set_task_status(task.id, task.status, next, Some(&reason), Utc::now()).await.map_err(|e| e.to_string())?;
        if cleanup::assess(&task).await.is_ok_and(|loss| loss.is_empty()) {
            if let Err(e) = cleanup::remove(daemon, &task, false).await {
                tracing::warn!(task = task.id, "cleanup after the PR merged failed: {e}");
            }
        }
        task = daemon.store.get_task(task.id).await.map_err(|e| e.to_string())?;
    }
    if changed {
        daemon.publish(&task);
    }
    Ok(task)
}

/// What the agent said last: the PR description's summary.
async fn last_message(daemon: &Daemon, id: i64) -> Option<String> {
    let last = daemon.store.last_seq(id).await.ok()?;
    let events = daemon.store.events(id, (last - 500).max(0), 500).await.ok()?;
    events.into_iter().rev().find_map(|e| match e.kind {
        EventKind::Message { text, role, .. } if role.as_deref() != Some("user") => Some(text),
        _ => None,
    })
}
