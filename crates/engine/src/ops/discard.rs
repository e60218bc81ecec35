//! `discard`: give up on a task. It becomes `discarded` (terminal), then its worktree
//! and branch are removed. Refuses while its agent runs, and — unless `yes` — while
//! that would lose unmerged commits or uncommitted changes, saying how much. The
//! copies bosun kept of its deliverables are removed with them.

use bosun_api::RmBody;
use bosun_core::task::TaskId;
use bosun_core::{EventKind, TaskEvent, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "discard", skip_all, fields(task = id))]
    pub async fn discard(&self, id: TaskId, yes: bool) -> Result<RmBody, OpError> {
        let mut task = self.store.get_task(id).await?;
        match task.status {
            s if s.has_live_run() => {
                return Err(OpError::Refused(format!("T-{id} is {}: stop it first (`bosun stop {id}`)", s.in_words())));
            }
            TaskStatus::Done => {
                return Err(OpError::Refused(format!("T-{id} is done: nothing to discard (`bosun archive {id}` hides it)")));
            }
            // Already discarded: only what a failed removal left behind is still to go.
            TaskStatus::Discarded if !cleanup::has_workspace(&task).await => {
                return Err(OpError::Refused(format!("T-{id} is already discarded")));
            }
            TaskStatus::Discarded => {}
            s => {
                s.apply(TaskEvent::Discarded)?;
                let loss = cleanup::assess(&task).await?;
                if !loss.is_empty() && !yes {
                    return Err(OpError::Refused(format!(
                        "T-{id} has {}: discarding loses them; `bosun discard {id} --yes` discards them anyway",
                        loss.describe(&task)
                    )));
                }
                // The status first (a concurrent start or stop wins and nothing is removed).
                let reason = "discarded by the user";
                task = self.store.transition_task(id, s, TaskEvent::Discarded, Some(reason), Utc::now()).await?;
                self.hub.emit(id, 0, EventKind::status("discarded", reason)).await;
                self.publish(&task);
            }
        }
        let mut removed = if cleanup::has_workspace(&task).await { cleanup::remove(self, &task, true).await? } else { vec![] };
        // The copies bosun kept of what its runs delivered go with it (a done task's
        // stay, for `open`).
        removed.extend(cleanup::remove_kept_deliverables(self, &task).await);
        self.hub.flush().await;
        Ok(RmBody { task: self.store.get_task(id).await?, removed })
    }
}
