//! `gc`: the worktrees and branches of merged or abandoned (failed, stopped,
//! interrupted) tasks that hold nothing unmerged or uncommitted. Lists them; with
//! `yes`, removes them. Never touches one that would lose work.

use bosun_api::{GcAction, GcItem};
use bosun_core::TaskStatus;
use bosun_store::TaskFilter;

use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "gc", skip_all)]
    pub async fn gc(&self, yes: bool) -> Result<Vec<GcItem>, OpError> {
        let statuses = vec![TaskStatus::Done, TaskStatus::Failed, TaskStatus::Stopped, TaskStatus::Interrupted];
        let tasks = self.store.list_tasks(&TaskFilter { statuses, ..Default::default() }).await?;
        let mut items = Vec::new();
        for task in tasks {
            if !cleanup::has_workspace(&task).await {
                continue;
            }
            let (action, reason) = match cleanup::assess(&task).await {
                Err(e) => (GcAction::Keep, format!("cannot check it: {e}")),
                Ok(loss) if !loss.is_empty() => (GcAction::Keep, format!("holds {}", loss.describe(&task))),
                Ok(_) if !yes => (GcAction::Remove, reason_for(task.status).to_string()),
                Ok(_) => match cleanup::remove(self, &task, false).await {
                    Ok(notes) => (GcAction::Removed, notes.join("; ")),
                    Err(e) => (GcAction::Keep, format!("removal failed: {e}")),
                },
            };
            items.push(GcItem { task_id: task.id, status: task.status, worktree: task.worktree, branch: task.branch, action, reason });
        }
        Ok(items)
    }
}

fn reason_for(status: TaskStatus) -> &'static str {
    if status == TaskStatus::Done { "merged" } else { "abandoned, nothing unmerged" }
}
