//! `budget raise`: a task's own budget set higher (or lower), and a task whose run its
//! budget stopped (needs_input, no run left) queued again to continue its session; a
//! task blocked by a budget is looked at again. Whether the next run fits every budget
//! is the dispatcher's to find out: if one still does not fit, the task is blocked
//! naming it.

use bosun_api::cost::RaiseRequest;
use bosun_core::schedule::Wait;
use bosun_core::task::{MAX_REPORTED_COST, TaskId};
use bosun_core::{Task, TaskEvent, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "raise_budget", skip_all, fields(task = id))]
    pub async fn raise_budget(&self, id: TaskId, req: RaiseRequest) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        let stopped = task.status == TaskStatus::NeedsInput && !task.runs.iter().any(|r| r.status.is_live());
        let blocked = task.status == TaskStatus::Blocked && task.waiting.as_ref().is_some_and(|w| matches!(w.on, Wait::Budget { .. }));
        if let Some(b) = req.budget {
            if !(b.is_finite() && (0.0..=MAX_REPORTED_COST).contains(&b)) {
                return Err(OpError::Invalid(format!("a budget of {b} dollars is not between 0 and {MAX_REPORTED_COST}")));
            }
            if task.status.is_final() {
                return Err(OpError::Refused(format!("T-{id} is {}: it spends nothing more", task.status)));
            }
            self.store.ledger().set_task_budget(id, Some(b), Utc::now()).await?;
        } else if !stopped && !blocked {
            return Err(OpError::Invalid(format!("T-{id} was not stopped or blocked by a budget: give its new budget in dollars")));
        }
        let task = match stopped {
            true => self.store.transition_task(id, task.status, TaskEvent::BudgetRaised, None, Utc::now()).await?,
            false => self.store.get_task(id).await?,
        };
        self.publish(&task);
        Ok(task)
    }
}
