//! `retry`: a failed, stopped or interrupted task is queued again; its next run
//! starts over in a new agent session (optionally with another agent profile), in the
//! same worktree, on top of what is there. A task the daemon cut off (interrupted:
//! nobody asked it to stop) continues its session instead, as a reply would. A task
//! waiting in triage is queued with the agent named (`agent` is then required).

use bosun_api::RetryRequest;
use bosun_core::task::TaskId;
use bosun_core::{Task, TaskEvent, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "retry", skip_all, fields(task = id))]
    pub async fn retry(&self, id: TaskId, req: RetryRequest) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        task.status.apply(TaskEvent::Retried)?; // refused before the agent is changed
        super::check_worktree(&task, false).await?;
        if let Some(agent) = &req.agent {
            bosun_core::profile::validate_name(agent).map_err(|e| OpError::Invalid(e.to_string()))?;
            self.check_route(task.repo.as_deref(), Some(agent), &task.tags)?;
            self.store.set_task_agent(id, agent, Utc::now()).await?;
        } else if task.status == TaskStatus::Triage {
            return Err(OpError::Invalid(format!(
                "T-{id} is in triage: no routing rule matched it; name its agent with --agent (`bosun agents` lists them)"
            )));
        }
        if let Some(model) = &req.model {
            bosun_core::task::validate_model(model).map_err(OpError::Invalid)?;
            self.store.set_task_model(id, Some(model), Utc::now()).await?;
        }
        let task = self.store.transition_task(id, task.status, TaskEvent::Retried, None, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }
}
