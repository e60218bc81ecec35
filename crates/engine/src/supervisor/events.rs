//! What a run's supervisor does with each agent event (asks answered by policy or held
//! for a human, the session kept) and with each human's message or answer for the
//! agent; and the run's wait for a human (running <-> needs_input).

use bosun_agents::{AgentCommand, AgentProcess};
use bosun_api::Delivery;
use bosun_core::{EventKind, NewApproval, Source, policy};
use chrono::Utc;

use super::RunCtx;
use crate::state::Control;

impl RunCtx<'_> {
    /// What the supervisor itself does about an agent's event: answer asks its
    /// policy allows (and hold the rest for a human), remember the session.
    ///
    /// It logs the event too, in the order that keeps readers right: an ask is logged
    /// before a policy's answer to it, and after its approval row exists (a client that
    /// sees the ask finds it in `/api/approvals`).
    pub(super) async fn on_event(&mut self, event: EventKind, proc: &AgentProcess) {
        let engine = self.engine;
        match &event {
            EventKind::Session { session_id } => {
                if let Err(e) = engine.store.set_run_session(self.run.id, session_id).await {
                    tracing::warn!("cannot record the session: {e}");
                }
                self.emit_agent(event).await;
            }
            EventKind::ApprovalRequest { id, tool, kind, command, path, input } => {
                let Some(profile) = &self.profile else { return self.emit_agent(event).await };
                let mut allow = profile.allow.clone();
                allow.extend(engine.store.allow_rules(&profile.name, self.task.repo.as_deref()).await.unwrap_or_default());
                let ask = policy::Ask { tool, kind: *kind, command: command.as_deref(), path: path.as_deref() };
                let workdir = self.workdir.clone().unwrap_or_default();
                if policy::allowed(profile.permissions, &allow, ask, &workdir) {
                    let id = id.clone();
                    self.emit_agent(event).await;
                    let _ = proc.commands.send(AgentCommand::Answer { id: id.clone(), allow: true, message: None });
                    self.emit(EventKind::Approval { id, allow: true, by: "policy".into(), message: None }).await;
                    return;
                }
                let new = NewApproval {
                    task_id: self.task.id,
                    run_id: self.run.id,
                    request_id: id.clone(),
                    tool: tool.clone(),
                    kind: *kind,
                    command: command.clone(),
                    path: path.clone(),
                    input: input.clone(),
                };
                if let Err(e) = engine.store.add_approval(new, Utc::now()).await {
                    tracing::error!("cannot record an approval request: {e}");
                }
                self.emit_agent(event).await;
                self.set_waiting(true).await;
            }
            _ => self.emit_agent(event).await,
        }
    }

    /// Passes a human's message or answer to the agent, and records it.
    pub(super) async fn deliver(&mut self, control: Control, proc: &AgentProcess) {
        match control {
            // A hook runs, not the agent: the message waits for the agent's prompt.
            Control::Say { text, from, delivered } if self.profile.is_none() => {
                let kept = self.keep(&text, from).await;
                self.early.push(text);
                let _ = delivered.send(kept.then_some(Delivery::AtStart));
            }
            Control::Say { text, from, delivered } => {
                let sent = proc.commands.send(AgentCommand::Say(text.clone())).is_ok();
                if sent {
                    self.said(&text, from).await;
                }
                let _ = delivered.send(sent.then_some(Delivery::Now));
            }
            Control::Answer { approval, allow, message } => {
                let _ = proc.commands.send(AgentCommand::Answer { id: approval.request_id.clone(), allow, message: message.clone() });
                let event = EventKind::Approval { id: approval.request_id.clone(), allow, by: "user".into(), message };
                self.engine.hub.emit_as(self.task.id, self.run.id, Source::human(approval.answered_by.as_deref()), event).await;
                let pending = self.engine.store.approvals(Some(self.task.id), true).await.unwrap_or_default();
                if pending.is_empty() {
                    self.set_waiting(false).await;
                }
            }
            Control::Interrupt => {
                self.interrupted = true;
                self.emit(EventKind::status("interrupting", "the user interrupted the agent's turn")).await;
                let _ = proc.commands.send(AgentCommand::Interrupt);
            }
            Control::Stop(_) | Control::Shutdown => unreachable!("handled by take_control"),
        }
    }

    /// running <-> needs_input, for the run and its task (one store write).
    pub(super) async fn set_waiting(&mut self, waiting: bool) {
        match self.engine.store.set_waiting(self.run.id, waiting, Utc::now()).await {
            Ok(task) => {
                self.engine.publish(&task);
                self.task = task;
            }
            Err(e) => tracing::debug!("the run moved while changing its wait: {e}"),
        }
    }
}
