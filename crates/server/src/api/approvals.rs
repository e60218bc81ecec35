//! Permission asks: `GET /api/approvals` lists every pending one across tasks (or one
//! task's, `?task=ID`);
//! `POST /api/tasks/{id}/approve` and `/deny` answer one (the task's oldest, or the
//! one named), and `always` adds the tool pattern to the profile's allow-list. A
//! second answer to the same ask is a 409. Who answered is the caller's token or device.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use bosun_api::{AnswerBody, AnswerRequest, ErrorBody, PendingApproval};
use bosun_engine::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use super::auth::Caller;
use super::extract::{OptBody, TaskId};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    /// Only this task's asks.
    pub task: Option<i64>,
}

#[utoipa::path(get, path = "/api/approvals", params(ApprovalsQuery),
    responses((status = 200, body = Vec<PendingApproval>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<ApprovalsQuery>, QueryRejection>,
) -> Result<Json<Vec<PendingApproval>>, ApiError> {
    let Query(q) = q?;
    Ok(Json(engine.pending_approvals(q.task).await?))
}

#[utoipa::path(post, path = "/api/tasks/{id}/approve", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<AnswerRequest>),
    responses((status = 200, body = AnswerBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    TaskId(id): TaskId,
    OptBody(mut req): OptBody<AnswerRequest>,
) -> Result<Json<AnswerBody>, ApiError> {
    req.from = Some(me.author().to_string());
    Ok(Json(engine.answer(id, req, true).await?))
}

#[utoipa::path(post, path = "/api/tasks/{id}/deny", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<AnswerRequest>),
    responses((status = 200, body = AnswerBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    TaskId(id): TaskId,
    OptBody(mut req): OptBody<AnswerRequest>,
) -> Result<Json<AnswerBody>, ApiError> {
    req.from = Some(me.author().to_string());
    Ok(Json(engine.answer(id, req, false).await?))
}
