//! `approve` / `deny`: a human answers a permission ask (the task's oldest pending
//! one, or the one named); `always` adds the ask's tool pattern to the profile's
//! allow-list. An ask is answered once: a second answer is refused.

use bosun_api::{AnswerRequest, PendingApproval};
use bosun_core::task::TaskId;
use bosun_core::{Approval, policy};
use chrono::Utc;

use crate::state::Control;
use crate::{Engine, OpError};

impl Engine {
    /// Every pending ask, with its task's title and agent.
    pub async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, OpError> {
        let mut out = Vec::new();
        for approval in self.store.approvals(None, true).await? {
            let task = self.store.get_task(approval.task_id).await?;
            out.push(PendingApproval { approval, title: task.title, agent: task.agent });
        }
        Ok(out)
    }

    #[tracing::instrument(name = "answer", skip_all, fields(task = task_id))]
    pub async fn answer(&self, task_id: TaskId, req: AnswerRequest, allow: bool) -> Result<Approval, OpError> {
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
        let always = match (allow && req.always, &task.agent) {
            (true, Some(agent)) => {
                let ask = policy::Ask {
                    tool: &approval.tool,
                    kind: approval.kind,
                    command: approval.command.as_deref(),
                    path: approval.path.as_deref(),
                };
                Some((agent.clone(), policy::pattern_for(&ask)))
            }
            _ => None,
        };
        let always = always.as_ref().map(|(agent, pattern)| (agent.as_str(), pattern.as_str()));
        // The answer and the allow rule it adds are one write.
        let answered = self.store.answer_approval(approval.id, allow, "user", message.as_deref(), always, Utc::now()).await?;
        if !self.control(task_id, Control::Answer { approval: Box::new(approval), allow, message }) {
            return Err(OpError::Refused(format!("T-{task_id}'s run has ended; the answer was recorded but not delivered")));
        }
        Ok(answered)
    }
}
