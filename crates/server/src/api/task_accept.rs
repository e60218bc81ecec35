//! `POST /api/tasks/{id}/accept`: take a reviewed task's work as it is: its
//! deliverables copied into `to` (an absolute directory on the daemon's machine;
//! refused, nothing copied, where a file would be overwritten without `force`), then
//! the task is done.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{AcceptBody, AcceptRequest, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::{OptBody, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/accept", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<AcceptRequest>),
    responses((status = 200, body = AcceptBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn accept(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    OptBody(req): OptBody<AcceptRequest>,
) -> Result<Json<AcceptBody>, ApiError> {
    Ok(Json(engine.accept(id, req).await?))
}
