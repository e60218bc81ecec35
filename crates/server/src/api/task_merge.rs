//! `POST /api/tasks/{id}/merge`: merge a reviewed task's branch into its base
//! (squash by default) and clean up its worktree; refusals name the files.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, MergeBody, MergeRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/merge", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<MergeRequest>),
    responses((status = 200, body = MergeBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn merge(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    OptBody(req): OptBody<MergeRequest>,
) -> Result<Json<MergeBody>, ApiError> {
    Ok(Json(engine.merge(id, req).await?))
}
