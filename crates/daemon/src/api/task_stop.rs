//! `POST /api/tasks/{id}/stop`: a queued task is cancelled; a running one has its
//! process group terminated (SIGTERM, then SIGKILL after the grace period). The
//! worktree and everything the agent wrote stay. Answers once the task is stopped.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::{Task, TaskEvent, TaskStatus};
use chrono::Utc;

use super::{ApiError, ErrorBody};
use crate::{Daemon, supervisor};

#[utoipa::path(post, path = "/api/tasks/{id}/stop", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stop(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<Task>, ApiError> {
    let Path(id) = id?;
    let task = daemon.store.get_task(id).await?;
    let next = task.status.apply(TaskEvent::Stopped)?;
    match task.status {
        TaskStatus::Queued | TaskStatus::Blocked => {
            let task = daemon.store.set_task_status(id, task.status, next, Some("stopped by user"), Utc::now()).await?;
            daemon.publish(&task);
            Ok(Json(task))
        }
        _ => {
            // Running: the supervisor answers once the run is recorded as stopped. If
            // the run ended on its own meanwhile, the task says how.
            supervisor::stop(&daemon, id).await;
            Ok(Json(daemon.store.get_task(id).await?))
        }
    }
}
