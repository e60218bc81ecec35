//! `POST /api/tasks/{id}/edit`: change a queued task's title, body, tags, priority or
//! agent (what is left out stays); a task that has started is refused.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{EditRequest, ErrorBody};
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{Body, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/edit", params(("id" = i64, Path, description = "Task id")), request_body = EditRequest,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn edit(State(engine): State<Arc<Engine>>, TaskId(id): TaskId, Body(req): Body<EditRequest>) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.edit(id, req).await?))
}
