//! `GET /api/tasks/{id}`: one task with its runs.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::Task;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[utoipa::path(get, path = "/api/tasks/{id}", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
pub async fn get(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    Ok(Json(daemon.store.get_task(id).await?))
}
