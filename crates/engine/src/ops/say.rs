//! `say`: a message for the task's agent. A running agent gets it at once (in its
//! runtime's way) and the answer says so only once it has; a queued task's next run
//! gets it at start; a stopped, interrupted or failed task is continued with it, as by
//! `reply`; one in review is pointed to `reply`, and a done or discarded one cannot be
//! continued. It is stored in the task's events with who sent it.

use bosun_api::{Delivery, SayBody, SayRequest};
use bosun_core::task::TaskId;
use bosun_core::{EventKind, Source, TaskStatus};
use chrono::Utc;
use tokio::sync::oneshot;

use crate::state::Control;
use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "say", skip_all, fields(task = id))]
    pub async fn say(&self, id: TaskId, req: SayRequest) -> Result<SayBody, OpError> {
        super::check_text(&req.text)?;
        if !req.comments.is_empty() {
            return Err(OpError::Invalid("line comments go with `reply` (a review), not `say`".into()));
        }
        if req.model.is_some() {
            return Err(OpError::Invalid("a running agent keeps its model: choose one with reply, retry or add".into()));
        }
        let task = self.store.get_task(id).await?;
        if task.status.is_settled() {
            super::check_worktree(&task, false).await?;
        }
        if task.status.has_live_run()
            && let Some(why) = self.deaf(id)
        {
            return Err(OpError::Refused(format!("T-{id} cannot take a message now: {why}")));
        }
        if task.status.has_live_run() {
            let (delivered, answer) = oneshot::channel();
            let control = Control::Say { text: req.text.clone(), from: req.from.clone(), delivered };
            if self.control(id, control)
                && let Ok(Some(delivered)) = answer.await
            {
                return Ok(SayBody { delivered, task: None });
            }
        }
        match task.status {
            TaskStatus::Queued | TaskStatus::Blocked | TaskStatus::Triage | TaskStatus::Running | TaskStatus::NeedsInput => {
                self.store.queue_message(id, &req.text, Utc::now()).await?;
                let source = Source::human(req.from.as_deref());
                self.hub.emit_as(id, 0, source, EventKind::Message { text: req.text, role: Some("user".into()), from: req.from }).await;
                Ok(SayBody { delivered: Delivery::AtStart, task: None })
            }
            TaskStatus::Stopped | TaskStatus::Interrupted | TaskStatus::Failed => {
                let task = self.reply(id, req).await?;
                Ok(SayBody { delivered: Delivery::Reopened, task: Some(task) })
            }
            TaskStatus::Review => {
                Err(OpError::Refused(format!("T-{id} is in review: its agent is not running; `bosun reply {id} \"...\"` continues it")))
            }
            TaskStatus::Done | TaskStatus::Discarded => {
                Err(OpError::Refused(format!("T-{id} is {}: it cannot be continued; `bosun add` starts a new task", task.status)))
            }
        }
    }
}
