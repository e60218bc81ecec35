//! `rebase`: rebase the task branch onto its (moved) base, inside the task's
//! worktree. On conflict the worktree is left mid-rebase with the conflicted files
//! listed, for the user (or an agent) to resolve.

use std::path::Path;

use bosun_api::{RebaseBody, RebaseOutcome};
use bosun_core::EventKind;
use bosun_core::task::TaskId;
use bosun_git::Worktree;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "rebase", skip_all, fields(task = id))]
    pub async fn rebase(&self, id: TaskId) -> Result<RebaseBody, OpError> {
        let task = self.store.get_task(id).await?;
        if !task.status.is_settled() {
            return Err(OpError::Refused(format!("T-{id} is {}: rebase it once its agent has stopped", task.status.in_words())));
        }
        let (Some(base), Some(wt)) = (&task.base, task.worktree.as_deref().filter(|p| Path::new(p).join(".git").exists())) else {
            return Err(OpError::Refused(format!("T-{id} has no worktree to rebase")));
        };
        let (body, note) = match Worktree::new(wt).rebase(base).await? {
            bosun_git::RebaseOutcome::UpToDate => {
                (RebaseBody { outcome: RebaseOutcome::UpToDate, head: None }, format!("already on top of {base}"))
            }
            bosun_git::RebaseOutcome::Rebased { head } => {
                let note = format!("rebased onto {base}: now at {head}");
                (RebaseBody { outcome: RebaseOutcome::Rebased, head: Some(head) }, note)
            }
            bosun_git::RebaseOutcome::Conflicted { files } => {
                let msg = format!(
                    "rebasing onto {base} stopped on conflicts in: {}; the worktree {wt} is left mid-rebase: resolve the files and run `git rebase --continue` there (or `git rebase --abort`)",
                    files.join(", ")
                );
                self.hub.emit(id, 0, EventKind::status("conflicted", msg.clone())).await;
                return Err(OpError::Refused(msg));
            }
        };
        self.hub.emit(id, 0, EventKind::status("rebased", note)).await;
        Ok(body)
    }
}
