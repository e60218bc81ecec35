//! `GET /api/tasks/{id}/diff`: what the agent changed on its branch against the
//! base, plus anything uncommitted; for a task without a repo, its files.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{DiffBody, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}/diff", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = DiffBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn diff(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<DiffBody>, ApiError> {
    Ok(Json(engine.diff(id).await?))
}
