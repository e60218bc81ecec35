//! `reply`: a message for a task whose run ended: feedback on one in review, or more
//! to do for one that was stopped, interrupted or failed. The task is queued again and
//! its next run continues the same agent session in the same worktree (where the
//! runtime left one: `Task::resume`), with the message as the new turn. A worktree a
//! rebase left conflicted is refused, unless the reply asks the agent to resolve it
//! (`resolve`). Review comments on lines of the diff (`comments`) go with the note as
//! one message, each quoted with its file and line (`core::review::review_message`).

use bosun_api::SayRequest;
use bosun_core::review::{MAX_COMMENTS, check_comments, review_message};
use bosun_core::task::TaskId;
use bosun_core::{EventKind, Source, Task};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "reply", skip_all, fields(task = id))]
    pub async fn reply(&self, id: TaskId, req: SayRequest) -> Result<Task, OpError> {
        if req.comments.len() > MAX_COMMENTS {
            return Err(OpError::Invalid(format!("at most {MAX_COMMENTS} comments in one reply")));
        }
        check_comments(&req.comments).map_err(|e| OpError::Invalid(e.to_string()))?;
        let text = review_message(&req.text, &req.comments);
        super::check_text(&text)?;
        let task = self.store.get_task(id).await?;
        super::check_worktree(&task, req.resolve).await?;
        if let Some(model) = &req.model {
            bosun_core::task::validate_model(model).map_err(OpError::Invalid)?;
            task.status.apply(bosun_core::TaskEvent::Reopened)?; // refused before the model is changed
            self.store.set_task_model(id, Some(model), Utc::now()).await?;
        }
        // The message and the status change are one write: a reply is never half-made.
        let task = match req.resolve {
            true => self.store.reopen_to_resolve(id, task.status, &text, Utc::now()).await?,
            false => self.store.reopen_with_message(id, task.status, &text, Utc::now()).await?,
        };
        // Logged before the dispatcher hears of the task, so it precedes the run's events.
        let source = Source::human(req.from.as_deref());
        self.hub.emit_as(id, 0, source, EventKind::Message { text, role: Some("user".into()), from: req.from }).await;
        self.hub.flush().await;
        self.publish(&task);
        Ok(task)
    }
}
