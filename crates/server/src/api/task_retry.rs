//! `POST /api/tasks/{id}/retry`: a failed, stopped or interrupted task is queued
//! again; its next run works in the same worktree, on top of what is there.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, RetryRequest};
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/retry", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<RetryRequest>),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    OptBody(req): OptBody<RetryRequest>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.retry(id, req).await?))
}
