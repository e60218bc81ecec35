//! `POST /api/tasks/{id}/merge`: merge a reviewed task's branch into its base in
//! the user's repo (squash by default), then clean up its worktree. Refuses, naming
//! the files, when the merge conflicts or would touch uncommitted changes; the task
//! branch survives every failure. A task without a repo is simply accepted.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::{Task, TaskEvent, TaskStatus};
use bosun_git::{MergeError, MergeStrategy, Repo, Worktree};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// `squash` (default), `merge` or `rebase`.
    pub strategy: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergeBody {
    pub task: Task,
    /// The new tip of the base branch (absent for tasks without a repo).
    pub commit: Option<String>,
    pub strategy: Option<String>,
    /// What was cleaned up afterwards, and what was kept and why.
    pub cleanup: Vec<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/merge", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<MergeRequest>),
    responses((status = 200, body = MergeBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn merge(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Result<Json<MergeBody>, ApiError> {
    let Path(id) = id?;
    let req: MergeRequest = super::optional_json(&body)?;
    let strategy: MergeStrategy = match req.strategy.as_deref() {
        None => MergeStrategy::Squash,
        Some(s) => s.parse().map_err(|_| ApiError::BadRequest(format!("unknown strategy `{s}` (squash, merge, rebase)")))?,
    };
    let task = daemon.store.get_task(id).await?;
    let lock = daemon.repo_lock(task.repo.as_deref().unwrap_or(""));
    let _serial = lock.lock().await;
    let task = daemon.store.get_task(id).await?; // as it is now that we hold the lock
    let next = task.status.apply(TaskEvent::Merged)?;

    let (Some(repo_path), Some(base), Some(branch)) = (&task.repo, &task.base, &task.branch) else {
        if task.repo.is_some() {
            return Err(ApiError::Conflict(format!("task {id} has no branch to merge")));
        }
        let task = done(&daemon, &task, next, "accepted".into()).await?;
        return Ok(Json(MergeBody { task, commit: None, strategy: None, cleanup: vec![] }));
    };
    let git = |e: bosun_git::GitError| ApiError::Conflict(e.to_string());
    let repo = Repo::open(FsPath::new(repo_path)).await.map_err(git)?;
    if let Some(wt) = task.worktree.as_deref().filter(|p| FsPath::new(p).exists()) {
        let dirty = Worktree::new(wt).dirty_files().await.map_err(git)?;
        if !dirty.is_empty() {
            return Err(ApiError::Conflict(format!(
                "the task's worktree {wt} has uncommitted changes ({}); commit or discard them first",
                dirty.join(", ")
            )));
        }
    }
    let message = match strategy {
        MergeStrategy::Merge => format!("Merge bosun T-{id}: {}", task.title),
        _ if task.body.trim().is_empty() => format!("{} (bosun T-{id})", task.title),
        _ => format!("{} (bosun T-{id})\n\n{}", task.title, task.body.trim()),
    };
    let commit = match repo.merge(base, branch, strategy, &message).await {
        Ok(outcome) => outcome.commit,
        // Already merged (a crash after the merge, before the status change).
        Err(MergeError::NothingToMerge) if repo.is_ancestor(branch, base).await.map_err(git)? => {
            repo.rev_parse(base).await.map_err(git)?
        }
        Err(MergeError::NothingToMerge) => {
            return Err(ApiError::Conflict(format!("nothing to merge: `{branch}` has no commits beyond `{base}`")));
        }
        Err(e @ (MergeError::Conflict { .. } | MergeError::DirtyCheckout { .. })) => return Err(ApiError::Conflict(e.to_string())),
        Err(MergeError::Git(e)) => return Err(git(e)),
    };
    let task = done(&daemon, &task, next, format!("merged into {base} as {} ({strategy})", short(&commit))).await?;
    let cleanup = clean_up(&repo, &task, base, branch).await;
    Ok(Json(MergeBody { task, commit: Some(commit), strategy: Some(strategy.to_string()), cleanup }))
}

async fn done(daemon: &Daemon, task: &Task, next: TaskStatus, reason: String) -> Result<Task, ApiError> {
    let task = daemon.store.set_task_status(task.id, task.status, next, Some(&reason), Utc::now()).await?;
    daemon.publish(&task);
    Ok(task)
}

/// Removes the worktree (it is clean: checked above) and the branch when every one
/// of its commits is in the base. A squashed branch is kept: its commits are not.
async fn clean_up(repo: &Repo, task: &Task, base: &str, branch: &str) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(wt) = task.worktree.as_deref().filter(|p| FsPath::new(p).exists()) {
        match repo.worktree_remove(FsPath::new(wt), false).await {
            Ok(()) => notes.push(format!("removed worktree {wt}")),
            Err(e) => notes.push(format!("kept worktree {wt}: {e}")),
        }
    }
    match repo.is_ancestor(branch, base).await {
        Ok(true) => match repo.delete_branch(branch, false).await {
            Ok(()) => notes.push(format!("deleted branch {branch}")),
            Err(e) => notes.push(format!("kept branch {branch}: {e}")),
        },
        _ => notes.push(format!("kept branch {branch} (its commits were squashed or rewritten into {base})")),
    }
    notes
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
