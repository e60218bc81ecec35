//! `GET /api/tasks/{id}/files`: the files a task's branch changes with their line
//! counts, what is uncommitted, what would conflict with the base now, and what a
//! half-done rebase left conflicted (the review page's files list).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, FilesBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}/files", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = FilesBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn files(State(engine): State<Arc<Engine>>, TaskId(id): TaskId) -> Result<Json<FilesBody>, ApiError> {
    Ok(Json(engine.files(id).await?))
}
