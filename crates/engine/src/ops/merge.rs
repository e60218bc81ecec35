//! `merge`: merge a reviewed task's branch into its base in the user's repo (squash
//! by default), then clean up its worktree. Refuses, naming the files, when the merge
//! conflicts or would touch uncommitted changes, and saying how to finish when a
//! rebase left the worktree half-way; the task branch survives every failure. A branch with nothing to land (no changes, or all of them already on the
//! base) finishes the task saying so. A task without a repo is simply accepted.

use std::path::Path;

use bosun_api::{MergeBody, MergeRequest, MergeResult};
use bosun_core::task::TaskId;
use bosun_core::{EventKind, Task, TaskEvent, TaskStatus};
use bosun_git::{MergeError, MergeStrategy, Nothing, Repo, Worktree};
use chrono::Utc;

use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "merge", skip_all, fields(task = id))]
    pub async fn merge(&self, id: TaskId, req: MergeRequest) -> Result<MergeBody, OpError> {
        if req.message.as_ref().is_some_and(|m| m.len() > MAX_MESSAGE) {
            return Err(OpError::Invalid("the commit message must be at most 64 KiB".into()));
        }
        let strategy: MergeStrategy = match req.strategy.as_deref() {
            None => MergeStrategy::Squash,
            Some(s) => s.parse().map_err(|_| OpError::Invalid(format!("unknown strategy `{s}` (squash, merge, rebase)")))?,
        };
        let task = self.store.get_task(id).await?;
        let lock = self.repo_lock(task.repo.as_deref().unwrap_or(""));
        let _serial = lock.lock().await;
        let task = self.store.get_task(id).await?; // as it is now that we hold the lock
        let next = task.status.apply(TaskEvent::Merged)?; // refused now, before any git work

        let (Some(repo_path), Some(base), Some(branch)) = (&task.repo, &task.base, &task.branch) else {
            if task.repo.is_some() {
                return Err(OpError::Refused(format!("task {id} has no branch to merge")));
            }
            let task = self.done(&task, next, "accepted".into()).await?;
            return Ok(MergeBody { task, result: MergeResult::Accepted, commit: None, strategy: None, cleanup: vec![] });
        };
        let repo = Repo::open(Path::new(repo_path)).await?;
        if !repo.branch_exists(branch).await? {
            return Err(OpError::Refused(format!(
                "T-{id}'s branch `{branch}` no longer exists in {repo_path}: nothing to merge (`bosun discard {id}` closes the task)"
            )));
        }
        if let Some(wt) = task.worktree.as_deref().filter(|p| Path::new(p).exists()) {
            // A rebase stopped half-way: its files hold conflict markers, not work to commit.
            if let Some(left) = crate::workspace::unfinished(&task, Path::new(wt)).await? {
                return Err(OpError::Refused(format!(
                    "T-{id}'s worktree {wt} is {}: finish that before merging: {}, or `bosun reply {id} --resolve \"...\"` to have the agent do it",
                    left.describe(),
                    left.how_to_finish()
                )));
            }
            let dirty = Worktree::new(wt).dirty_files().await?;
            if !dirty.is_empty() {
                return Err(OpError::Refused(format!(
                    "the task's worktree {wt} has uncommitted changes ({}); commit or discard them first",
                    dirty.join(", ")
                )));
            }
        }
        let message = match req.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => m.to_owned(),
            None => default_message(&task, strategy),
        };
        // Recorded before the base moves: if the daemon dies before the task is marked
        // done, the next start finishes the merge ([`Engine::finish_merges`]).
        self.store.set_merge_intent(id, &strategy.to_string(), Utc::now()).await?;
        let merged = repo.merge(base, branch, strategy, &message).await;
        if merged.as_ref().is_err_and(|e| !matches!(e, MergeError::NothingToMerge(_))) {
            let _ = self.store.clear_merge_intent(id).await;
        }
        let (result, commit, reason) = match merged {
            Ok(outcome) => {
                let reason = format!("merged into {base} as {} ({strategy})", short(&outcome.commit));
                (MergeResult::Merged, Some(outcome.commit), reason)
            }
            // Also a retry after a crash between the merge and the status change.
            Err(MergeError::NothingToMerge(Nothing::AlreadyInBase)) => {
                (MergeResult::AlreadyInBase, None, format!("already in {base}: nothing to merge"))
            }
            Err(MergeError::NothingToMerge(Nothing::NoChanges)) => {
                (MergeResult::NoChanges, None, format!("no changes: `{branch}` changes nothing, so nothing was merged into {base}"))
            }
            Err(e @ (MergeError::Conflict { .. } | MergeError::DirtyCheckout { .. })) => return Err(OpError::Refused(e.to_string())),
            Err(MergeError::Git(e)) => return Err(e.into()),
        };
        if commit.is_some() {
            crate::crash::point("merge-base-moved");
        }
        let task = match self.done(&task, next, reason).await {
            Ok(task) => task,
            // The base has moved: say so, and how to finish (the next merge finds the
            // change already in the base and marks the task done).
            Err(e) if commit.is_some() => {
                tracing::error!(task = id, "merged, but the task could not be marked done: {e}");
                let message = format!(
                    "T-{id} is merged into {base} as {}, but bosun could not record it as done (see the daemon's log); `bosun merge {id}` again finishes it",
                    short(commit.as_deref().unwrap_or_default())
                );
                return Err(OpError::Unavailable { service: "the store", message });
            }
            Err(e) => return Err(e),
        };
        let cleanup = cleanup::after_merge(&repo, &task, base, branch).await;
        let strategy = commit.is_some().then(|| strategy.to_string());
        Ok(MergeBody { task, result, commit, strategy, cleanup })
    }

    /// Finishes the merges a crash cut off (recorded with their strategy, their task
    /// not yet done): each is merged again, which lands nothing twice (the base that
    /// already holds the task's change finishes it as "already in" the base). One
    /// that cannot finish now is forgotten, its task left in review.
    pub(crate) async fn finish_merges(self: std::sync::Arc<Self>) {
        let intents = match self.store.merge_intents().await {
            Ok(intents) => intents,
            Err(e) => return tracing::warn!("cannot read the merges under way: {e}"),
        };
        for (id, strategy) in intents {
            match self.merge(id, MergeRequest { strategy: Some(strategy), message: None }).await {
                Ok(body) => tracing::info!(
                    task = id,
                    "finished a merge the last daemon was cut off in: {}",
                    body.task.status_reason.unwrap_or_default()
                ),
                Err(e) => {
                    tracing::warn!(task = id, "a merge the last daemon was cut off in cannot be finished: {e}");
                    let _ = self.store.clear_merge_intent(id).await;
                }
            }
        }
    }

    /// The task is done: its status (which a concurrent change can refuse), then the
    /// event saying so, then the news.
    async fn done(&self, task: &Task, next: TaskStatus, reason: String) -> Result<Task, OpError> {
        let task = self.store.transition_task(task.id, task.status, TaskEvent::Merged, Some(&reason), Utc::now()).await?;
        self.hub.emit(task.id, 0, EventKind::status(next.as_str(), reason)).await;
        self.hub.flush().await;
        self.publish(&task);
        Ok(task)
    }
}

/// Longest commit message a merge takes.
const MAX_MESSAGE: usize = 64 * 1024;

/// The commit message a merge writes unless it is given one: the task's title and body.
fn default_message(task: &Task, strategy: MergeStrategy) -> String {
    let id = task.id;
    match strategy {
        MergeStrategy::Merge => format!("Merge bosun T-{id}: {}", task.title),
        _ if task.body.trim().is_empty() => format!("{} (bosun T-{id})", task.title),
        _ => format!("{} (bosun T-{id})\n\n{}", task.title, task.body.trim()),
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
