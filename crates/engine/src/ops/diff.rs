//! `diff`: what the agent changed on its branch against the base (from their merge
//! base, like a pull request), plus anything still uncommitted in the worktree. For
//! a task without a repo: its deliverables against the run before (its workspace's
//! files when it recorded none).

use std::path::{Path, PathBuf};

use bosun_api::DiffBody;
use bosun_core::task::TaskId;
use bosun_git::{Repo, Worktree};

use crate::{Engine, OpError};

/// Files listed for a workspace without a repo, at most.
const MAX_FILES: usize = 10_000;

impl Engine {
    #[tracing::instrument(name = "diff", skip_all, fields(task = id))]
    pub async fn diff(&self, id: TaskId) -> Result<DiffBody, OpError> {
        let task = self.store.get_task(id).await?;
        let Some(repo_path) = &task.repo else {
            // Its deliverables against the run before; a task that recorded none, its files.
            if let Some((files, diff)) = self.delivered_patch(&task).await? {
                return Ok(DiffBody { base: None, branch: None, files, uncommitted: vec![], diff });
            }
            let files = match &task.worktree {
                Some(dir) => list_files(Path::new(dir)),
                None => Vec::new(),
            };
            return Ok(DiffBody { base: None, branch: None, files, uncommitted: vec![], diff: String::new() });
        };
        let (Some(base), Some(branch)) = (&task.base, &task.branch) else {
            return Err(OpError::Refused(format!("task {id} has not started yet: it has no branch")));
        };
        let repo = Repo::open(Path::new(repo_path)).await?;
        if !repo.branch_exists(branch).await? {
            return Err(OpError::Refused(format!("branch `{branch}` no longer exists in {repo_path}")));
        }
        let diff = repo.diff(base, branch).await?;
        let files = repo.changed_files(base, branch).await?;
        let uncommitted = match task.worktree.as_deref().filter(|p| Path::new(p).join(".git").exists()) {
            Some(wt) => Worktree::new(wt).dirty_files().await?,
            None => Vec::new(),
        };
        Ok(DiffBody { base: Some(base.clone()), branch: Some(branch.clone()), files, uncommitted, diff })
    }
}

/// Relative paths of the files under `root`, sorted; symlinks are listed, not followed.
fn list_files(root: &Path) -> Vec<String> {
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
