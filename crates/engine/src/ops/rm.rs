//! `rm`: remove a task's worktree and branch without ever leaving a task that points
//! at nothing. A task that is finished (done, discarded) keeps its status; any other
//! settled task is discarded with them (`discard`): refused, saying what would be
//! lost, while the branch holds unmerged commits or the worktree uncommitted
//! changes, unless `force`.

use bosun_api::RmBody;
use bosun_core::task::TaskId;

use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "rm", skip_all, fields(task = id))]
    pub async fn rm(&self, id: TaskId, force: bool) -> Result<RmBody, OpError> {
        let task = self.store.get_task(id).await?;
        if !task.status.is_settled() {
            return Err(OpError::Refused(format!("T-{id} is {}: stop it first", task.status.in_words())));
        }
        if !cleanup::has_workspace(&task).await {
            return Err(OpError::Refused(format!("T-{id} is {} and has no worktree or branch to remove", task.status.in_words())));
        }
        if !task.status.is_final() {
            return self.discard(id, force).await;
        }
        let loss = cleanup::assess(&task).await?;
        if !loss.is_empty() && !force {
            return Err(OpError::Refused(format!("T-{id} has {}; `bosun rm --force` discards them", loss.describe(&task))));
        }
        let removed = cleanup::remove(self, &task, force).await?;
        let task = self.store.get_task(id).await?;
        Ok(RmBody { task, removed })
    }
}
