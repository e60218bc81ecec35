//! `POST /api/tasks/{id}/budget`: set a task's own budget; a task its budget stopped
//! is queued again to continue.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_api::cost::RaiseRequest;
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/budget", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<RaiseRequest>),
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn raise(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    OptBody(req): OptBody<RaiseRequest>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.raise_budget(id, req).await?))
}
