//! A scratch task's "diff" for the review page: its deliverables' changes between
//! runs. Each path's latest delivery against the one an earlier run delivered (or
//! nothing, when it is new), compared from the copies bosun kept.

use bosun_api::{FileDiffBody, FileEntry, FilesBody};
use bosun_core::Task;
use bosun_core::deliverable::{self, Deliverable};

use crate::deliverables::kept_dir;
use crate::{Engine, OpError};

impl Engine {
    /// The files list of a task without a repo: its latest deliverables, with lines
    /// added and deleted since the run before.
    pub(super) async fn delivered_files(&self, task: &Task) -> Result<FilesBody, OpError> {
        let all = self.store.deliverables().deliverables(task.id).await?;
        let (mut files, mut additions, mut deletions) = (Vec::new(), 0u64, 0u64);
        for d in deliverable::latest(&all) {
            let lines = match self.compare(d, previous(&all, d)).await {
                Ok((_, lines)) => lines,
                Err(_) => None,
            };
            if let Some((a, del)) = lines {
                additions = additions.saturating_add(a);
                deletions = deletions.saturating_add(del);
            }
            let generated = bosun_core::review::is_generated(&d.path);
            let (a, del) = lines.unzip();
            files.push(FileEntry { path: d.path.clone(), additions: a, deletions: del, binary: lines.is_none(), generated });
        }
        Ok(FilesBody {
            base: None,
            branch: None,
            worktree: task.worktree.clone(),
            files,
            additions,
            deletions,
            uncommitted: vec![],
            conflicts: vec![],
            unfinished: None,
            unmerged: vec![],
        })
    }

    /// One deliverable's latest delivery against the one before it.
    pub(super) async fn delivered_diff(&self, task: &Task, path: &str) -> Result<FileDiffBody, OpError> {
        let all = self.store.deliverables().deliverables(task.id).await?;
        let Some(d) = all.iter().rev().find(|d| d.path == path) else {
            return Err(OpError::NotFound(format!("T-{} has no deliverable {path:?}", task.id)));
        };
        let (diff, _) = self.compare(d, previous(&all, d)).await?;
        Ok(FileDiffBody { path: path.to_owned(), diff, truncated: false })
    }

    /// `diff` of a task without a repo: its latest deliverables and their diffs against
    /// the run before, one after the other (None: it has recorded none).
    pub(super) async fn delivered_patch(&self, task: &Task) -> Result<Option<(Vec<String>, String)>, OpError> {
        let all = self.store.deliverables().deliverables(task.id).await?;
        if all.is_empty() {
            return Ok(None);
        }
        let (mut files, mut patch) = (Vec::new(), String::new());
        for d in deliverable::latest(&all) {
            files.push(d.path.clone());
            if let Ok((diff, _)) = self.compare(d, previous(&all, d)).await {
                patch.push_str(&diff);
            }
        }
        Ok(Some((files, patch)))
    }

    /// `git diff --no-index` of the kept copies (`/dev/null` for a new one).
    async fn compare(&self, d: &Deliverable, before: Option<&Deliverable>) -> Result<(String, Option<(u64, u64)>), OpError> {
        let dir = kept_dir(self, d.task_id, d.run_id).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let side = |d: &Deliverable| format!("{}/{}", d.run_id, d.path);
        let new = side(d);
        if !dir.join(&new).is_file() || before.is_some_and(|b| !dir.join(side(b)).is_file()) {
            return Err(OpError::Refused(format!("bosun kept no copy of {} to compare", d.path)));
        }
        let old = before.map(side).unwrap_or_else(|| "/dev/null".into());
        Ok(bosun_git::compare_files(&dir, &old, &new).await?)
    }
}

/// The delivery of `d`'s path by the latest run before `d`'s.
fn previous<'a>(all: &'a [Deliverable], d: &Deliverable) -> Option<&'a Deliverable> {
    all.iter().rev().find(|p| p.path == d.path && p.run_id < d.run_id)
}
