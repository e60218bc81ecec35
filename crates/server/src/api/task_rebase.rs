//! `POST /api/tasks/{id}/rebase`: rebase the task branch onto its (moved) base in
//! its worktree; a conflict is a 409 naming the files, left for the user.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, RebaseBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(post, path = "/api/tasks/{id}/rebase", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = RebaseBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rebase(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<RebaseBody>, ApiError> {
    Ok(Json(engine.rebase(id).await?))
}
