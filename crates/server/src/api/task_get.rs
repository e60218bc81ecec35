//! `GET /api/tasks/{id}`: one task with its runs.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
pub async fn get(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.store.get_task(id).await?))
}
