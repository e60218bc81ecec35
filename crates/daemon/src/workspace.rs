//! A task's workspace: a git worktree on the task's own branch for repo tasks, a
//! plain scratch directory for the rest. Both live under the data dir, named from
//! the task id and a sanitized slug, so no title can place them anywhere else.

use std::path::{Path, PathBuf};

use bosun_core::Task;
use bosun_core::slug::{task_branch, task_dir_name};
use bosun_git::{Repo, Worktree};
use chrono::Utc;

use crate::Daemon;

/// Makes sure the task's workspace exists, creating it if needed. The path (and
/// branch) are stored before anything is created on disk, so a crash in between
/// leaves a record the next attempt repairs rather than an unknown directory.
pub async fn prepare(daemon: &Daemon, task: &Task) -> Result<PathBuf, String> {
    let dir_name = task_dir_name(task.id, &task.title);
    let Some(repo_path) = &task.repo else {
        let dir = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| daemon.config.workspaces_dir().join(&dir_name));
        if task.worktree.is_none() {
            record(daemon, task, None, &dir).await?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create workspace {}: {e}", dir.display()))?;
        return Ok(dir);
    };

    let path = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| daemon.config.worktrees_dir().join(&dir_name));
    let branch = task.branch.clone().unwrap_or_else(|| task_branch(task.id, &task.title));
    if task.worktree.is_none() || task.branch.is_none() {
        record(daemon, task, Some(&branch), &path).await?;
    }
    if path.join(".git").exists() {
        return Ok(path); // a retry: the worktree and its work are still there
    }
    let lock = daemon.repo_lock(repo_path);
    let _serial = lock.lock().await;
    let repo = Repo::open(Path::new(repo_path)).await.map_err(|e| e.to_string())?;
    // A crash while creating it may have left a registration or a partial directory.
    repo.worktree_prune().await.map_err(|e| e.to_string())?;
    if path.exists() {
        std::fs::remove_dir_all(&path).map_err(|e| format!("cannot clear partial worktree {}: {e}", path.display()))?;
    }
    let base = task.base.as_deref().ok_or("the task has no base branch")?;
    repo.worktree_add(&path, &branch, base).await.map_err(|e| e.to_string())?;
    Ok(path)
}

async fn record(daemon: &Daemon, task: &Task, branch: Option<&str>, path: &Path) -> Result<(), String> {
    daemon
        .store
        .set_task_workspace(task.id, branch, &path.to_string_lossy(), Utc::now())
        .await
        .map_err(|e| format!("cannot record the workspace: {e}"))
}

/// Commits whatever the agent left uncommitted on the task branch, so nothing is lost
/// and `diff`/`merge` see it. Returns the new commit, if there was anything to commit.
pub async fn commit_leftovers(task: &Task, workdir: &Path, agent: &str) -> Result<Option<String>, String> {
    if task.repo.is_none() {
        return Ok(None);
    }
    let wt = Worktree::new(workdir);
    let message = format!("bosun T-{}: {}\n\nUncommitted work left by agent `{agent}`, committed by bosun.", task.id, task.title);
    wt.commit_all(&message).await.map_err(|e| e.to_string())
}
