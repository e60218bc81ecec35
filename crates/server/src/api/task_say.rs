//! `POST /api/tasks/{id}/say`: a message for the task's agent: `now` once the running
//! agent has it, `at_start` when the task's next run will get it. It is recorded as
//! said by the caller's token or device (the body's `from` is ignored).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, SayBody, SayRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::auth::Caller;
use super::extract::{Body, TaskId};

#[utoipa::path(post, path = "/api/tasks/{id}/say", params(("id" = i64, Path, description = "Task id")), request_body = SayRequest,
    responses((status = 200, body = SayBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn say(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    TaskId(id): TaskId,
    Body(mut req): Body<SayRequest>,
) -> Result<Json<SayBody>, ApiError> {
    req.from = Some(me.author().to_string());
    Ok(Json(engine.say(id, req).await?))
}
