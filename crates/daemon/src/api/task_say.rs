//! `POST /api/tasks/{id}/say`: a message for the task's agent. A running agent gets
//! it at once (in its runtime's way); a queued task's next run gets it at start. It
//! is stored in the task's events with who sent it.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use bosun_core::{EventKind, TaskStatus};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;
use crate::supervisor::{self, Control};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SayRequest {
    pub text: String,
    /// Who is speaking (shown in the log).
    pub from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SayBody {
    /// `now` (to the running agent) or `at_start` (queued for the next run).
    pub delivered: String,
}

#[utoipa::path(post, path = "/api/tasks/{id}/say", params(("id" = i64, Path, description = "Task id")), request_body = SayRequest,
    responses((status = 200, body = SayBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn say(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<SayRequest>, JsonRejection>,
) -> Result<Json<SayBody>, ApiError> {
    let Path(id) = id?;
    let Json(req) = body?;
    if req.text.trim().is_empty() || req.text.len() > 64 * 1024 {
        return Err(ApiError::BadRequest("text must be between 1 byte and 64 KiB".into()));
    }
    let task = daemon.store.get_task(id).await?;
    if task.status.has_live_run() && supervisor::send(&daemon, id, Control::Say { text: req.text.clone(), from: req.from.clone() }) {
        return Ok(Json(SayBody { delivered: "now".into() }));
    }
    match task.status {
        TaskStatus::Queued | TaskStatus::Blocked | TaskStatus::Running | TaskStatus::NeedsInput => {
            daemon.store.queue_message(id, &req.text, Utc::now()).await?;
            daemon.hub.emit(id, 0, EventKind::Message { text: req.text, role: Some("user".into()), from: req.from }).await;
            Ok(Json(SayBody { delivered: "at_start".into() }))
        }
        other => Err(ApiError::Conflict(format!("T-{id} is {other}: its agent is not running; `bosun reply` continues it"))),
    }
}
