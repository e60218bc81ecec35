//! `GET /api/tasks/{id}/deliverables`: the files the task's runs handed over, each
//! path's latest delivery first, with size, type and description.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{DeliverablesBody, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}/deliverables", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = DeliverablesBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<DeliverablesBody>, ApiError> {
    Ok(Json(engine.deliverables(id).await?))
}
