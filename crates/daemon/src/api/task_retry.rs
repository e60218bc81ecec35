//! `POST /api/tasks/{id}/retry`: a failed, stopped or interrupted task is queued
//! again; its next run works in the same worktree, on top of what is there.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::{Task, TaskEvent};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// Run it with another agent profile this time.
    pub agent: Option<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/retry", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<RetryRequest>),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let req: RetryRequest = super::optional_json(&body)?;
    let task = daemon.store.get_task(id).await?;
    let next = task.status.apply(TaskEvent::Retried)?;
    if let Some(agent) = &req.agent {
        bosun_core::profile::validate_name(agent).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        daemon.store.set_task_agent(id, agent, Utc::now()).await?;
    }
    let task = daemon.store.set_task_status(id, task.status, next, None, Utc::now()).await?;
    daemon.publish(&task);
    Ok(Json(task))
}
