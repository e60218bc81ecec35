//! `POST /api/tasks/{id}/interrupt`: cut a running agent's current turn short with
//! its runtime's own interrupt (Claude Code's control request, Codex's
//! `turn/interrupt`, ACP's `session/cancel`, SIGINT for a `command` agent). Unlike
//! `stop`, the agent winds down by itself; the run then ends as stopped.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::Task;

use super::{ApiError, ErrorBody};
use crate::Daemon;
use crate::supervisor::{self, Control};

#[utoipa::path(post, path = "/api/tasks/{id}/interrupt", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn interrupt(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let task = daemon.store.get_task(id).await?;
    if !task.status.has_live_run() || !supervisor::send(&daemon, id, Control::Interrupt) {
        return Err(ApiError::Conflict(format!("T-{id} is {}: there is no running turn to interrupt", task.status)));
    }
    Ok(Json(task))
}
