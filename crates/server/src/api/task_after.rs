//! `POST /api/tasks/{id}/after`: make a queued or blocked task also wait for other
//! tasks. Refuses, naming it, a dependency that would close a cycle.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{AfterRequest, ErrorBody};
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{Body, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/after", params(("id" = i64, Path, description = "Task id")),
    request_body = AfterRequest,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn after(State(engine): State<Arc<Engine>>, TaskId(id): TaskId, Body(req): Body<AfterRequest>) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.add_deps(id, &req.after).await?))
}
