//! `POST /api/tasks/{id}/discard`: give up on a task (it becomes `discarded`; its
//! worktree and branch are removed); refuses, saying what would be lost, unless `yes`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{DiscardRequest, ErrorBody, RmBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/discard", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<DiscardRequest>),
    responses((status = 200, body = RmBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn discard(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    OptBody(req): OptBody<DiscardRequest>,
) -> Result<Json<RmBody>, ApiError> {
    Ok(Json(engine.discard(id, req.yes).await?))
}
