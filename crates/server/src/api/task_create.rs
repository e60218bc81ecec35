//! `POST /api/tasks`: queue a task (repo resolved to its root, base branch fixed
//! now, dependencies checked).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bosun_api::ErrorBody;
use bosun_core::{NewTask, Task};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(post, path = "/api/tasks", request_body = NewTask,
    responses((status = 201, body = Task), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(engine): State<Arc<Engine>>, Body(new): Body<NewTask>) -> Result<(StatusCode, Json<Task>), ApiError> {
    Ok((StatusCode::CREATED, Json(engine.create_task(new).await?)))
}
