//! `POST /api/tasks/{id}/reply`: feedback on a task in review; it is queued again and
//! its next run continues the same agent session with the feedback, recorded as the
//! caller's (the body's `from` is ignored).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, SayRequest};
use bosun_core::Task;
use bosun_engine::Engine;

use super::ApiError;
use super::auth::Caller;
use super::extract::{Body, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/reply", params(("id" = i64, Path, description = "Task id")), request_body = SayRequest,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reply(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    TaskId(id): TaskId,
    Body(mut req): Body<SayRequest>,
) -> Result<Json<Task>, ApiError> {
    req.from = Some(me.author().to_string());
    Ok(Json(engine.reply(id, req).await?))
}
