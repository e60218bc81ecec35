//! Deliverables ([`DeliverableStore`], `Store::deliverables`): the files each run
//! handed over, written with the run's end (`Store::finish_run_with`, one
//! transaction), read back per task; and the paths a run declared in its events.

use async_trait::async_trait;
pub use bosun_core::deliverable::{Deliverable, NewDeliverable};
use bosun_core::task::{RunId, TaskId};

use crate::Result;

#[async_trait]
pub trait DeliverableStore: Send + Sync {
    /// Every deliverable of a task's runs, in run order, then by path.
    async fn deliverables(&self, task_id: TaskId) -> Result<Vec<Deliverable>>;
    /// The deliverables a run declared in its event log (`deliverable` events), in
    /// order: (path, description).
    async fn declared(&self, task_id: TaskId, run_id: RunId) -> Result<Vec<(String, Option<String>)>>;
}
