//! `POST /api/tasks/{id}/rm`: remove a task's worktree and branch. Refuses, saying
//! what would be lost, while the branch holds unmerged commits or the worktree
//! uncommitted changes, unless `force`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::{Daemon, cleanup};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RmRequest {
    /// Discard unmerged commits and uncommitted changes.
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RmBody {
    pub task: bosun_core::Task,
    /// What was removed.
    pub removed: Vec<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/rm", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<RmRequest>),
    responses((status = 200, body = RmBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rm(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>, body: Bytes) -> Result<Json<RmBody>, ApiError> {
    let Path(id) = id?;
    let req: RmRequest = super::optional_json(&body)?;
    let task = daemon.store.get_task(id).await?;
    if !task.status.is_settled() {
        return Err(ApiError::Conflict(format!("T-{id} is {}: stop it first", task.status)));
    }
    if !cleanup::has_workspace(&task).await {
        return Err(ApiError::Conflict(format!("T-{id} has no worktree or branch to remove")));
    }
    let loss = cleanup::assess(&task).await.map_err(ApiError::Conflict)?;
    if !loss.is_empty() && !req.force {
        return Err(ApiError::Conflict(format!(
            "T-{id} has {}; `bosun rm --force` discards them",
            loss.describe(&task)
        )));
    }
    let removed = cleanup::remove(&daemon, &task, req.force).await.map_err(ApiError::Conflict)?;
    let task = daemon.store.get_task(id).await?;
    Ok(Json(RmBody { task, removed }))
}
