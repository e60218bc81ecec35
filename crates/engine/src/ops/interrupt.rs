//! `interrupt`: cut a running agent's current turn short with its runtime's own
//! interrupt (Claude Code's control request, Codex's `turn/interrupt`, ACP's
//! `session/cancel`, SIGINT for a `command` agent). Unlike `stop`, the agent winds
//! down by itself; the run then ends as stopped.

use bosun_core::Task;
use bosun_core::task::TaskId;

use crate::state::Control;
use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "interrupt", skip_all, fields(task = id))]
    pub async fn interrupt(&self, id: TaskId) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        if !task.status.has_live_run() || !self.control(id, Control::Interrupt) {
            return Err(OpError::Refused(format!("T-{id} is {}: there is no running turn to interrupt", task.status.in_words())));
        }
        Ok(task)
    }
}
