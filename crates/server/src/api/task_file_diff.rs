//! `GET /api/tasks/{id}/files/diff?path=`: the diff of one file the task's branch
//! changes (the review page loads each file's diff on its own); `side=base`, what the
//! base changed in it since the branch forked (a conflict's other side).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use bosun_api::{ErrorBody, FileDiffBody, FileDiffQuery};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::TaskId;

#[utoipa::path(get, path = "/api/tasks/{id}/files/diff", params(("id" = i64, Path, description = "Task id"), FileDiffQuery),
    responses((status = 200, body = FileDiffBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn file_diff(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    q: Result<Query<FileDiffQuery>, QueryRejection>,
) -> Result<Json<FileDiffBody>, ApiError> {
    let Query(q) = q?;
    let base_side = match q.side.as_deref() {
        None | Some("branch") => false,
        Some("base") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("unknown side `{other}` (branch or base)"))),
    };
    Ok(Json(engine.file_diff(id, &q.path, base_side).await?))
}
