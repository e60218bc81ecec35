//! `POST /api/tasks/{id}/rebase`: rebase the task branch onto its (moved) base,
//! inside the task's worktree. On conflict the worktree is left mid-rebase with the
//! conflicted files listed, for the user (or an agent) to resolve.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::EventKind;
use bosun_git::{RebaseOutcome, Worktree};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[derive(Debug, Serialize, ToSchema)]
pub struct RebaseBody {
    /// `up_to_date` or `rebased`. (A conflict is a 409 naming the files.)
    pub outcome: String,
    pub head: Option<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/rebase", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = RebaseBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rebase(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<RebaseBody>, ApiError> {
    let Path(id) = id?;
    let task = daemon.store.get_task(id).await?;
    if !task.status.is_settled() {
        return Err(ApiError::Conflict(format!("T-{id} is {}: rebase it once its agent has stopped", task.status)));
    }
    let (Some(base), Some(wt)) = (&task.base, task.worktree.as_deref().filter(|p| FsPath::new(p).join(".git").exists())) else {
        return Err(ApiError::Conflict(format!("T-{id} has no worktree to rebase")));
    };
    let outcome = Worktree::new(wt).rebase(base).await.map_err(|e| ApiError::Conflict(e.to_string()))?;
    let (body, note) = match outcome {
        RebaseOutcome::UpToDate => (RebaseBody { outcome: "up_to_date".into(), head: None }, format!("already on top of {base}")),
        RebaseOutcome::Rebased { head } => {
            let note = format!("rebased onto {base}: now at {head}");
            (RebaseBody { outcome: "rebased".into(), head: Some(head) }, note)
        }
        RebaseOutcome::Conflicted { files } => {
            let msg = format!(
                "rebasing onto {base} stopped on conflicts in: {}; the worktree {wt} is left mid-rebase: resolve the files and run `git rebase --continue` there (or `git rebase --abort`)",
                files.join(", ")
            );
            daemon.hub.emit(id, 0, EventKind::status("conflicted", msg.clone())).await;
            return Err(ApiError::Conflict(msg));
        }
    };
    daemon.hub.emit(id, 0, EventKind::status("rebased", note)).await;
    Ok(Json(body))
}
