//! `POST /api/tasks/{id}/interrupt`: cut a running agent's current turn short with
//! its runtime's own interrupt; the run then ends as stopped.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(post, path = "/api/tasks/{id}/interrupt", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn interrupt(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.interrupt(id).await?))
}
