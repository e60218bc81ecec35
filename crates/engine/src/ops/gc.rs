//! `gc`: the worktrees and branches of merged tasks and of failed, stopped or
//! interrupted ones that hold nothing unmerged or uncommitted. Lists them; with
//! `yes`, removes them (and pool worktrees no longer wanted). Never touches one that
//! would lose work.

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
                Ok(_) if !yes => (GcAction::Remove, reason_for(task.status)),
                Ok(_) => match cleanup::remove(self, &task, false).await {
                    Ok(notes) => (GcAction::Removed, notes.join("; ")),
                    Err(e) => (GcAction::Keep, format!("removal failed: {e}")),
                },
            };
            // What is there to remove: a worktree already gone is not listed as removed.
            let worktree = task.worktree.filter(|p| std::path::Path::new(p).exists());
            items.push(GcItem { task_id: task.id, status: task.status, worktree, branch: task.branch, action, reason });
        }
        // Warm worktrees no longer wanted, and pool directories no entry names: no
        // one's work, so not listed as any task's.
        if yes {
            let removed = crate::pool::gc(self).await?;
            if removed > 0 {
                tracing::info!(removed, "removed pool worktrees no longer wanted");
            }
        }
        Ok(items)
    }
}

fn reason_for(status: TaskStatus) -> String {
    match status {
        TaskStatus::Done => "merged".into(),
        other => format!("{other}, nothing unmerged or uncommitted"),
    }
}
