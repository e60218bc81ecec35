//! `POST /api/tasks/{id}/pr`: push a reviewed task's branch and open a pull request
//! (or, with `refresh`, read its state; a merged PR makes the task done). GitHub
//! failing or out of reach is a 502 that names it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, PrRequest};
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/pr", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<PrRequest>),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn pr(State(engine): State<Arc<Engine>>, TaskId(id): TaskId, OptBody(req): OptBody<PrRequest>) -> Result<Json<Task>, ApiError> {
    Ok(Json(engine.pr(id, req).await?))
}
