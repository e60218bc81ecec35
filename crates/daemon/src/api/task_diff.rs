//! `GET /api/tasks/{id}/diff`: what the agent changed on its branch against the
//! base (from their merge base, like a pull request), plus anything still
//! uncommitted in the worktree. For a task without a repo: its workspace's files.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_git::{Repo, Worktree};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;

/// Files listed for a workspace without a repo, at most.
const MAX_FILES: usize = 10_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffBody {
    pub base: Option<String>,
    pub branch: Option<String>,
    /// Files changed on the branch (or present in the workspace).
    pub files: Vec<String>,
    /// Files with uncommitted changes in the worktree (not in `diff`).
    pub uncommitted: Vec<String>,
    /// The unified diff, `base...branch`.
    pub diff: String,
}

#[utoipa::path(get, path = "/api/tasks/{id}/diff", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = DiffBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn diff(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<DiffBody>, ApiError> {
    let Path(id) = id?;
    let task = daemon.store.get_task(id).await?;
    let Some(repo_path) = &task.repo else {
        let files = match &task.worktree {
            Some(dir) => list_files(FsPath::new(dir)),
            None => Vec::new(),
        };
        return Ok(Json(DiffBody { base: None, branch: None, files, uncommitted: vec![], diff: String::new() }));
    };
    let (Some(base), Some(branch)) = (&task.base, &task.branch) else {
        return Err(ApiError::Conflict(format!("task {id} has not started yet: it has no branch")));
    };
    let git = |e: bosun_git::GitError| ApiError::Conflict(e.to_string());
    let repo = Repo::open(FsPath::new(repo_path)).await.map_err(git)?;
    if !repo.branch_exists(branch).await.map_err(git)? {
        return Err(ApiError::Conflict(format!("branch `{branch}` no longer exists in {repo_path}")));
    }
    let diff = repo.diff(base, branch).await.map_err(git)?;
    let files = repo.changed_files(base, branch).await.map_err(git)?;
    let uncommitted = match task.worktree.as_deref().filter(|p| FsPath::new(p).join(".git").exists()) {
        Some(wt) => Worktree::new(wt).dirty_files().await.map_err(git)?,
        None => Vec::new(),
    };
    Ok(Json(DiffBody { base: Some(base.clone()), branch: Some(branch.clone()), files, uncommitted, diff }))
}

/// Relative paths of the files under `root`, sorted; symlinks are listed, not followed.
fn list_files(root: &FsPath) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
                if out.len() >= MAX_FILES {
                    out.sort();
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}
