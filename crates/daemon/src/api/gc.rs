//! `POST /api/gc`: the worktrees and branches of merged or abandoned (failed,
//! stopped, interrupted) tasks that hold nothing unmerged or uncommitted. Lists them;
//! with `yes`, removes them. Never touches one that would lose work.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use bosun_core::TaskStatus;
use bosun_store::TaskFilter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::{Daemon, cleanup};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GcRequest {
    /// Remove what can go (otherwise only list it).
    #[serde(default)]
    pub yes: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GcItem {
    pub task_id: i64,
    pub status: TaskStatus,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    /// `remove`, `removed` or `keep`.
    pub action: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/gc", request_body(content = Option<GcRequest>),
    responses((status = 200, body = Vec<GcItem>), (status = 400, body = ErrorBody)))]
pub async fn gc(State(daemon): State<Arc<Daemon>>, body: Bytes) -> Result<Json<Vec<GcItem>>, ApiError> {
    let req: GcRequest = super::optional_json(&body)?;
    let statuses = vec![TaskStatus::Done, TaskStatus::Failed, TaskStatus::Stopped, TaskStatus::Interrupted];
    let tasks = daemon.store.list_tasks(&TaskFilter { statuses, ..Default::default() }).await?;
    let mut items = Vec::new();
    for task in tasks {
        if !cleanup::has_workspace(&task).await {
            continue;
        }
        let (action, reason) = match cleanup::assess(&task).await {
            Err(e) => ("keep".to_string(), format!("cannot check it: {e}")),
            Ok(loss) if !loss.is_empty() => ("keep".to_string(), format!("holds {}", loss.describe(&task))),
            Ok(_) if !req.yes => ("remove".to_string(), reason_for(task.status).to_string()),
            Ok(_) => match cleanup::remove(&daemon, &task, false).await {
                Ok(notes) => ("removed".to_string(), notes.join("; ")),
                Err(e) => ("keep".to_string(), format!("removal failed: {e}")),
            },
        };
        items.push(GcItem { task_id: task.id, status: task.status, worktree: task.worktree, branch: task.branch, action, reason });
    }
    Ok(Json(items))
}

fn reason_for(status: TaskStatus) -> &'static str {
    if status == TaskStatus::Done { "merged" } else { "abandoned, nothing unmerged" }
}
