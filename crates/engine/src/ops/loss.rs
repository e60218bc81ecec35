//! `loss`: what discarding a task (removing its worktree and branch) would lose, so a
//! client can ask before it discards.

use bosun_api::LossBody;
use bosun_core::task::TaskId;

use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "loss", skip_all, fields(task = id))]
    pub async fn loss(&self, id: TaskId) -> Result<LossBody, OpError> {
        let task = self.store.get_task(id).await?;
        let loss = cleanup::assess(&task).await?;
        let summary = (!loss.is_empty()).then(|| loss.describe(&task));
        Ok(LossBody { unmerged_commits: loss.unmerged_commits, changed_files: loss.changed_files, uncommitted: loss.uncommitted, summary })
    }
}
