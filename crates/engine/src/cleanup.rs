//! Removing task workspaces without losing work: the one place that decides whether
//! a worktree or branch may go (`rm`, `gc`, after a merge, after a merged pull
//! request), and does it.

use std::path::{Path, PathBuf};

use bosun_core::{EventKind, Task};
use bosun_git::{GitError, Repo, Worktree};

use crate::Engine;
use crate::error::OpError;

#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot remove {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl From<CleanupError> for OpError {
    fn from(e: CleanupError) -> Self {
        OpError::Refused(e.to_string())
    }
}

/// What removing a task's workspace would lose.
#[derive(Debug, Default)]
pub struct Loss {
    pub unmerged_commits: usize,
    /// Files those commits change (against where the branch forked from the base).
    pub changed_files: usize,
    pub uncommitted: Vec<String>,
    /// Files in a scratch workspace (tasks without a repo): their only copy.
    pub scratch_files: bool,
}

impl Loss {
    pub fn is_empty(&self) -> bool {
        self.unmerged_commits == 0 && self.uncommitted.is_empty() && !self.scratch_files
    }

    pub fn describe(&self, task: &Task) -> String {
        let mut parts = Vec::new();
        if self.unmerged_commits > 0 {
            let branch = task.branch.as_deref().unwrap_or("its branch");
            let base = task.base.as_deref().unwrap_or("the base");
            let (commits, files) = (bosun_core::count(self.unmerged_commits, "commit"), bosun_core::count(self.changed_files, "file"));
            parts.push(format!("{commits} on {branch} not in {base} ({files} changed)"));
        }
        if !self.uncommitted.is_empty() {
            parts.push(format!("uncommitted changes ({})", self.uncommitted.join(", ")));
        }
        if self.scratch_files {
            parts.push("the files of its scratch workspace".to_string());
        }
        parts.join(" and ")
    }
}

/// Whether the task has anything on disk (worktree, workspace, branch) to remove.
pub async fn has_workspace(task: &Task) -> bool {
    if task.worktree.as_deref().is_some_and(|p| Path::new(p).exists()) {
        return true;
    }
    match (&task.repo, &task.branch) {
        (Some(repo), Some(branch)) => match Repo::open(Path::new(repo)).await {
            Ok(repo) => repo.branch_exists(branch).await.unwrap_or(false),
            Err(_) => false,
        },
        _ => false,
    }
}

/// What would be lost. A done (or discarded) task's branch counts as merged: merged
/// even when squashed, or given up on.
pub async fn assess(task: &Task) -> Result<Loss, CleanupError> {
    let mut loss = Loss::default();
    let worktree = task.worktree.as_deref().filter(|p| Path::new(p).exists());
    let Some(repo_path) = &task.repo else {
        loss.scratch_files = !task.status.is_final() && worktree.is_some_and(|p| dir_has_files(Path::new(p)));
        return Ok(loss);
    };
    let repo = Repo::open(Path::new(repo_path)).await?;
    if let Some(wt) = worktree.filter(|p| Path::new(p).join(".git").exists()) {
        loss.uncommitted = Worktree::new(wt).dirty_files().await?;
    }
    if let (Some(base), Some(branch)) = (&task.base, &task.branch)
        && !task.status.is_final()
        && repo.branch_exists(branch).await?
    {
        loss.unmerged_commits = repo.unmerged_commits(base, branch).await?;
        if loss.unmerged_commits > 0 {
            loss.changed_files = repo.changed_files(base, branch).await?.len();
        }
    }
    Ok(loss)
}

fn dir_has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false)
}

/// Removes the task's worktree (or scratch workspace) and branch. The caller checked
/// [`assess`] (or was told `--force`). Returns what was done, for the user.
pub async fn remove(engine: &Engine, task: &Task, force: bool) -> Result<Vec<String>, CleanupError> {
    let mut notes = Vec::new();
    let worktree = task.worktree.as_deref().filter(|p| Path::new(p).exists());
    match &task.repo {
        None => {
            if let Some(dir) = worktree {
                std::fs::remove_dir_all(dir).map_err(|source| CleanupError::Io { path: dir.into(), source })?;
                notes.push(format!("removed workspace {dir}"));
            }
        }
        Some(repo_path) => {
            let lock = engine.repo_lock(repo_path);
            let _serial = lock.lock().await;
            let repo = Repo::open(Path::new(repo_path)).await?;
            if let Some(wt) = worktree {
                if Path::new(wt).join(".git").exists() {
                    repo.worktree_remove(Path::new(wt), force).await?;
                } else {
                    // A directory a crash left half-made: not a worktree git knows.
                    std::fs::remove_dir_all(wt).map_err(|source| CleanupError::Io { path: wt.into(), source })?;
                }
                notes.push(format!("removed worktree {wt}"));
            }
            repo.worktree_prune().await?;
            if let Some(branch) = &task.branch
                && repo.branch_exists(branch).await?
            {
                // A done task's squashed branch is merged in content, not in history; a
                // discarded one was given up on.
                let merged = force || task.status.is_final();
                repo.delete_branch(branch, merged).await?;
                notes.push(format!("deleted branch {branch}"));
            }
        }
    }
    engine.hub.emit(task.id, 0, EventKind::status("removed", notes.join("; "))).await;
    Ok(notes)
}

/// Removes the copies bosun kept of a task's deliverables (a discarded task's);
/// returns what was done, for the user. A failure is logged, not raised.
pub async fn remove_kept_deliverables(engine: &Engine, task: &Task) -> Option<String> {
    let kept = crate::deliverables::kept_dir(engine, task.id, 0).parent()?.to_path_buf();
    if !kept.exists() {
        return None;
    }
    match tokio::fs::remove_dir_all(&kept).await {
        Ok(()) => Some("removed the copies of its deliverables".into()),
        Err(e) => {
            tracing::warn!("cannot remove {}: {e}", kept.display());
            None
        }
    }
}

/// After a merge into the base (the caller holds the repo lock and checked the
/// worktree is clean): removes the worktree, and the branch when every one of its
/// commits is in the base. A squashed branch is kept: its commits are not. Returns
/// what was done and what was kept, for the user; failures are kept, not raised.
pub async fn after_merge(repo: &Repo, task: &Task, base: &str, branch: &str) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(wt) = task.worktree.as_deref().filter(|p| Path::new(p).exists()) {
        match repo.worktree_remove(Path::new(wt), false).await {
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

/// Removes a pool worktree (`<data-dir>/pool/<id>`, never a task's: it holds no one's
/// work) whatever state a crash left it in, with its registration in `repo` (None:
/// the repo is gone or unknown, only the directory goes). Refuses any other path.
pub(crate) async fn remove_pool_worktree(engine: &Engine, repo: Option<&Repo>, path: &Path) -> Result<(), CleanupError> {
    let refused = || CleanupError::Io { path: path.to_path_buf(), source: std::io::Error::other("not a pool worktree of this data dir") };
    if path.parent() != Some(engine.config.pool_dir().as_path()) {
        return Err(refused());
    }
    match repo {
        Some(repo) => {
            let lock = engine.repo_lock(&repo.root().to_string_lossy());
            let _serial = lock.lock().await;
            repo.worktree_discard(path).await?;
        }
        None if path.exists() => std::fs::remove_dir_all(path).map_err(|source| CleanupError::Io { path: path.to_path_buf(), source })?,
        None => {}
    }
    Ok(())
}
