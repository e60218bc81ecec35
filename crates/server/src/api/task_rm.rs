//! `POST /api/tasks/{id}/rm`: remove a task's worktree and branch; refuses, saying
//! what would be lost, unless `force`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, RmBody, RmRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/rm", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<RmRequest>),
    responses((status = 200, body = RmBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rm(State(engine): State<Arc<Engine>>, TaskId(id): TaskId, OptBody(req): OptBody<RmRequest>) -> Result<Json<RmBody>, ApiError> {
    Ok(Json(engine.rm(id, req.force).await?))
}
