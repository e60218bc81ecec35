//! `edit`: change a task that has not started: its title, body, tags, priority or
//! agent. Checked like a new task (and routed again: the agent must exist); written
//! only while the task is still queued (a compare-and-set in the store), so a task
//! that started meanwhile is refused rather than changed under its agent.

use bosun_api::EditRequest;
use bosun_core::task::TaskId;
use bosun_core::{NewTask, Task, TaskStatus};
use bosun_store::TaskEdit;
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "edit", skip_all, fields(task = id))]
    pub async fn edit(&self, id: TaskId, req: EditRequest) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        if task.status != TaskStatus::Queued {
            return Err(OpError::Refused(format!("T-{id} is {}: only a queued task can be edited", task.status.in_words())));
        }
        let agent = req.agent.map(|a| Some(a.trim().to_owned()).filter(|a| !a.is_empty()));
        let edit = TaskEdit {
            title: req.title.map(|t| t.trim().to_owned()),
            body: req.body,
            tags: req.tags,
            priority: req.priority,
            agent: agent.clone(),
        };
        // The task as it would be, checked as a new one would be.
        let probe = NewTask {
            title: edit.title.clone().unwrap_or_else(|| task.title.clone()),
            body: edit.body.clone().unwrap_or_else(|| task.body.clone()),
            agent: agent.clone().unwrap_or_else(|| task.agent.clone()),
            tags: edit.tags.clone().unwrap_or_else(|| task.tags.clone()),
            ..NewTask::default()
        };
        probe.validate().map_err(OpError::Invalid)?;
        if edit.agent.is_some() || edit.tags.is_some() {
            self.check_route(task.repo.as_deref(), probe.agent.as_deref(), &probe.tags)?;
        }
        let task = self.store.edit_queued_task(id, &edit, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }
}
