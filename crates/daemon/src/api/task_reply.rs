//! `POST /api/tasks/{id}/reply`: feedback on a task in review. The task is queued
//! again and its next run continues the same agent session in the same worktree
//! (where the runtime has sessions), with the feedback as the new message.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use bosun_core::{EventKind, Task, TaskEvent};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub text: String,
    pub from: Option<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/reply", params(("id" = i64, Path, description = "Task id")), request_body = ReplyRequest,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reply(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<ReplyRequest>, JsonRejection>,
) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let Json(req) = body?;
    if req.text.trim().is_empty() || req.text.len() > 64 * 1024 {
        return Err(ApiError::BadRequest("text must be between 1 byte and 64 KiB".into()));
    }
    let task = daemon.store.get_task(id).await?;
    let next = task.status.apply(TaskEvent::Reopened)?;
    daemon.store.queue_message(id, &req.text, Utc::now()).await?;
    daemon.hub.emit(id, 0, EventKind::Message { text: req.text, role: Some("user".into()), from: req.from }).await;
    daemon.hub.flush().await;
    let task = daemon.store.set_task_status(id, task.status, next, None, Utc::now()).await?;
    daemon.publish(&task);
    Ok(Json(task))
}
