//! `POST /api/tasks/{id}/stop`: a queued task is cancelled; a running one has its
//! process group terminated (SIGTERM, then SIGKILL after the grace period). The
//! worktree and everything the agent wrote stay. Answers once the task is stopped.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(post, path = "/api/tasks/{id}/stop", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stop(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.stop(id).await?))
}
