//! `POST /api/tasks/{id}/after`: make a queued or blocked task also wait for other
//! tasks. Refuses, naming it, a dependency that would close a cycle.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use bosun_core::deps::{describe_cycle, find_cycle};
use bosun_core::{Task, TaskStatus};
use bosun_store::StoreError;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterRequest {
    /// Task ids to wait for (added to the existing ones).
    pub after: Vec<i64>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/after", params(("id" = i64, Path, description = "Task id")),
    request_body = AfterRequest,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn after(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<AfterRequest>, JsonRejection>,
) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let Json(req) = body?;
    let task = daemon.store.get_task(id).await?;
    if !matches!(task.status, TaskStatus::Queued | TaskStatus::Blocked) {
        return Err(ApiError::Conflict(format!("T-{id} is {}: only a queued or blocked task can get dependencies", task.status)));
    }
    for dep in &req.after {
        if let Err(StoreError::TaskNotFound(_)) = daemon.store.get_task(*dep).await {
            return Err(ApiError::BadRequest(format!("dependency T-{dep} does not exist")));
        }
    }
    let edges = daemon.store.dep_edges().await?;
    if let Some(cycle) = find_cycle(id, &req.after, &edges) {
        return Err(ApiError::BadRequest(format!("dependency cycle: {}", describe_cycle(&cycle))));
    }
    let task = daemon.store.add_deps(id, &req.after, Utc::now()).await?;
    daemon.publish(&task);
    Ok(Json(task))
}
