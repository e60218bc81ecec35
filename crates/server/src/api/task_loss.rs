//! `GET /api/tasks/{id}/loss`: what discarding the task would lose (unmerged commits,
//! the files they change, uncommitted changes), for asking before discarding.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, LossBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}/loss", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = LossBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn loss(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<LossBody>, ApiError> {
    Ok(Json(engine.loss(id).await?))
}
