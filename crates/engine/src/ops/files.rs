//! `files` and `file_diff`: the review page's reading of a task's change: each file
//! its branch changes with line counts (against the merge base, like a pull request),
//! what is uncommitted, what would conflict with the base now and what a half-done
//! rebase left conflicted; then one of those files' diff. A task without a repo lists
//! its deliverables' changes between runs instead (`delivered_diff.rs`).

use std::path::Path;

use bosun_api::{FileDiffBody, FileEntry, FilesBody};
use bosun_core::Task;
use bosun_core::review::is_generated;
use bosun_core::task::TaskId;
use bosun_git::{Repo, Worktree};

use crate::{Engine, OpError};

/// Longest diff of one file sent whole.
const MAX_FILE_DIFF: usize = 4 * 1024 * 1024;

impl Engine {
    #[tracing::instrument(name = "files", skip_all, fields(task = id))]
    pub async fn files(&self, id: TaskId) -> Result<FilesBody, OpError> {
        let task = self.store.get_task(id).await?;
        let worktree = task.worktree.clone().filter(|p| Path::new(p).exists());
        let Some((repo, base, branch)) = self.branch_of(&task).await? else {
            // No repo: its deliverables' changes since the run before.
            return self.delivered_files(&task).await;
        };
        let stats = repo.file_stats(&base, &branch).await?;
        let (mut additions, mut deletions) = (0u64, 0u64);
        let files = stats
            .into_iter()
            .map(|s| {
                if let Some((a, d)) = s.lines {
                    additions = additions.saturating_add(a);
                    deletions = deletions.saturating_add(d);
                }
                entry(s.path, Some(s.lines))
            })
            .collect();
        let conflicts = match repo.branch_exists(&base).await? {
            true => repo.merge_conflicts(&base, &branch).await?,
            false => vec![],
        };
        let (mut uncommitted, mut unfinished, mut unmerged) = (vec![], None, vec![]);
        if let Some(wt) = worktree.as_deref().filter(|p| Path::new(p).join(".git").exists()) {
            uncommitted = Worktree::new(wt).dirty_files().await?;
            if let Some(left) = crate::workspace::unfinished(&task, Path::new(wt)).await? {
                unfinished = Some(left.describe());
                unmerged = left.conflicted;
            }
        }
        Ok(FilesBody {
            base: Some(base),
            branch: Some(branch),
            worktree,
            files,
            additions,
            deletions,
            uncommitted,
            conflicts,
            unfinished,
            unmerged,
        })
    }

    #[tracing::instrument(name = "file_diff", skip_all, fields(task = id))]
    /// One file's diff on the task's branch, or (`base_side`) on its base since the fork.
    pub async fn file_diff(&self, id: TaskId, path: &str, base_side: bool) -> Result<FileDiffBody, OpError> {
        let task = self.store.get_task(id).await?;
        let Some((repo, base, branch)) = self.branch_of(&task).await? else {
            if base_side {
                return Err(OpError::Refused(format!("T-{id} has no repo: its deliverables have no base")));
            }
            return self.delivered_diff(&task, path).await;
        };
        let (from, to) = if base_side { (&branch, &base) } else { (&base, &branch) };
        // Only a file that side changes: a path is never a pattern nor a way around the repo.
        if !repo.changed_files(from, to).await?.iter().any(|f| f == path) {
            return Err(OpError::NotFound(match base_side {
                true => format!("{base} has not changed {path:?} since T-{id}'s branch forked from it"),
                false => format!("T-{id}'s branch does not change {path:?}"),
            }));
        }
        let mut diff = repo.file_diff(from, to, path).await?;
        let truncated = diff.len() > MAX_FILE_DIFF;
        if truncated {
            let mut cut = MAX_FILE_DIFF;
            while !diff.is_char_boundary(cut) {
                cut -= 1;
            }
            diff.truncate(diff[..cut].rfind('\n').map_or(cut, |n| n + 1));
        }
        Ok(FileDiffBody { path: path.to_owned(), diff, truncated })
    }

    /// The task's repo, base and branch; None for a task without a repo. Refused
    /// before the task has a branch, or once the branch is gone.
    async fn branch_of(&self, task: &Task) -> Result<Option<(Repo, String, String)>, OpError> {
        let id = task.id;
        let Some(repo_path) = &task.repo else { return Ok(None) };
        let (Some(base), Some(branch)) = (&task.base, &task.branch) else {
            return Err(OpError::Refused(format!("task {id} has not started yet: it has no branch")));
        };
        let repo = Repo::open(Path::new(repo_path)).await?;
        if !repo.branch_exists(branch).await? {
            return Err(OpError::Refused(format!("branch `{branch}` no longer exists in {repo_path}")));
        }
        Ok(Some((repo, base.clone(), branch.clone())))
    }
}

fn entry(path: String, lines: Option<Option<(u64, u64)>>) -> FileEntry {
    let generated = is_generated(&path);
    match lines {
        Some(Some((a, d))) => FileEntry { path, additions: Some(a), deletions: Some(d), binary: false, generated },
        Some(None) => FileEntry { path, additions: None, deletions: None, binary: true, generated },
        None => FileEntry { path, additions: None, deletions: None, binary: false, generated },
    }
}
