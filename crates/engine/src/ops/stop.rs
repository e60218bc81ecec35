//! `stop`: a queued task is cancelled; a running one has its process group
//! terminated (SIGTERM, then SIGKILL after the grace period). The worktree and
//! everything the agent wrote stay. Answers once the task is stopped.

use bosun_core::task::TaskId;
use bosun_core::{Task, TaskEvent, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError, supervisor};

impl Engine {
    #[tracing::instrument(name = "stop", skip_all, fields(task = id))]
    pub async fn stop(&self, id: TaskId) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        task.status.apply(TaskEvent::Stopped)?;
        match task.status {
            TaskStatus::Queued | TaskStatus::Blocked | TaskStatus::Triage => {
                let task = self.store.transition_task(id, task.status, TaskEvent::Stopped, Some("stopped by user"), Utc::now()).await?;
                self.publish(&task);
                Ok(task)
            }
            _ => {
                // Running: the supervisor answers once the run is recorded as stopped. If
                // the run ended on its own meanwhile, the task says how.
                // A task waiting for its budget to be raised has no run left to stop.
                if !supervisor::stop(self, id).await
                    && task.status == TaskStatus::NeedsInput
                    && !task.runs.iter().any(|r| r.status.is_live())
                {
                    let task = self.store.transition_task(id, task.status, TaskEvent::Stopped, Some("stopped by user"), Utc::now()).await?;
                    self.publish(&task);
                    return Ok(task);
                }
                Ok(self.store.get_task(id).await?)
            }
        }
    }
}
