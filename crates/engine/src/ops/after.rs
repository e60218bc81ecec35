//! `after`: make a queued or blocked task also wait for other tasks. Refuses, naming
//! it, a dependency that would close a cycle.

use bosun_core::deps::{describe_cycle, find_cycle};
use bosun_core::task::TaskId;
use bosun_core::{Task, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "add_deps", skip_all, fields(task = id))]
    pub async fn add_deps(&self, id: TaskId, after: &[TaskId]) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        if !matches!(task.status, TaskStatus::Queued | TaskStatus::Blocked) {
            return Err(OpError::Refused(format!(
                "T-{id} is {}: only a queued or blocked task can get dependencies",
                task.status.in_words()
            )));
        }
        self.check_deps_exist(after).await?;
        let edges = self.store.dep_edges().await?;
        if let Some(cycle) = find_cycle(id, after, &edges) {
            return Err(OpError::Invalid(format!("dependency cycle: {}", describe_cycle(&cycle))));
        }
        let task = self.store.add_deps(id, after, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }

    /// Every dependency named must be a task.
    pub(crate) async fn check_deps_exist(&self, deps: &[TaskId]) -> Result<(), OpError> {
        for dep in deps {
            if let Err(bosun_store::StoreError::TaskNotFound(_)) = self.store.get_task(*dep).await {
                return Err(OpError::Invalid(format!("dependency T-{dep} does not exist")));
            }
        }
        Ok(())
    }
}
