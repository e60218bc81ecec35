//! `approve` / `deny`: a human answers a permission ask (the task's oldest pending
//! one, or the one named); `always` adds the ask's tool pattern to the profile's
//! allow-list. An ask is answered once: a second answer is refused.

use bosun_api::{AnswerBody, AnswerRequest, PendingApproval};
use bosun_core::task::TaskId;
use bosun_core::{Approval, policy};
use chrono::Utc;

use bosun_store::NewRule;

use crate::state::Control;
use crate::{Engine, OpError};

impl Engine {
    /// Every pending ask (of one task, when named), with its task's title and agent.
    pub async fn pending_approvals(&self, task: Option<TaskId>) -> Result<Vec<PendingApproval>, OpError> {
        if let Some(id) = task {
            self.store.get_task(id).await?; // a task that does not exist is not found
        }
        let mut out = Vec::new();
        for approval in self.store.approvals(task, true).await? {
            let task = self.store.get_task(approval.task_id).await?;
            let always = policy::pattern_for(&ask_of(&approval));
            out.push(PendingApproval { approval, title: task.title, agent: task.agent, always });
        }
        Ok(out)
    }

    #[tracing::instrument(name = "answer", skip_all, fields(task = task_id))]
    pub async fn answer(&self, task_id: TaskId, req: AnswerRequest, allow: bool) -> Result<AnswerBody, OpError> {
        let task = self.store.get_task(task_id).await?;
        let approval = match req.id {
            Some(aid) => {
                let all = self.store.approvals(Some(task_id), false).await?;
                all.into_iter().find(|a| a.id == aid).ok_or_else(|| OpError::NotFound(format!("T-{task_id} has no approval {aid}")))?
            }
            None => {
                let pending = self.store.approvals(Some(task_id), true).await?;
                pending.into_iter().next().ok_or_else(|| OpError::Refused(format!("T-{task_id} has no pending approval")))?
            }
        };
        let message = if allow { None } else { Some(req.reason.clone().unwrap_or_else(|| "denied by the user".into())) };
        // The narrowest rule that covers this ask, for this agent in this repo only.
        let pattern = if allow && req.always { policy::pattern_for(&ask_of(&approval)) } else { None };
        let rule = match (&pattern, &task.agent) {
            (Some(pattern), Some(profile)) => Some(NewRule { profile, repo: task.repo.as_deref(), pattern }),
            _ => None,
        };
        // The answer and the allow rule it adds are one write.
        let by = req.from.as_deref().filter(|f| !f.trim().is_empty()).unwrap_or("user");
        let answered = self.store.answer_approval(approval.id, allow, by, message.as_deref(), rule, Utc::now()).await?;
        let saved_rule = rule.map(|r| r.pattern.to_string());
        if !self.control(task_id, Control::Answer { approval: Box::new(answered.clone()), allow, message }) {
            return Err(OpError::Refused(format!("T-{task_id}'s run has ended; the answer was recorded but not delivered")));
        }
        Ok(AnswerBody { approval: answered, saved_rule })
    }
}

/// What the policy looks at in a stored ask.
fn ask_of(a: &Approval) -> policy::Ask<'_> {
    policy::Ask { tool: &a.tool, kind: a.kind, command: a.command.as_deref(), path: a.path.as_deref() }
}
