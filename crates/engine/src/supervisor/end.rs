//! How a run ends: let go of for the next daemon, or finished — leftovers committed,
//! run and task finished in the store, waiters answered, the slot freed.

use std::collections::VecDeque;
use std::path::Path;

use bosun_agents::ExitInfo;
use bosun_core::{EventKind, RunStatus, TaskEvent, TaskStatus};
use bosun_store::{RunEnd, StoreError};
use chrono::Utc;

use super::{Ending, RunCtx, release};
use crate::workspace::{self, WorkspaceError};

impl RunCtx<'_> {
    /// The daemon is going and leaves the agent running with its holder: the run stays
    /// live in the store (a pending ask stays pending) for the next daemon to take back.
    pub(super) async fn detach(self) {
        let pid = self.run.pid.unwrap_or_default();
        tracing::info!(pid, "leaving the agent running for the next daemon");
        self.emit(EventKind::status(
            self.task.status.as_str(),
            format!("the daemon stopped; the agent (pid {pid}) keeps running and the next `bosun serve` takes it back"),
        ))
        .await;
        self.engine.hub.flush().await;
        release(self.engine, self.task.id);
    }

    /// Records how the run ended: leftovers committed, run and task finished in the
    /// store, the final status event written, waiters answered, the slot freed.
    pub(super) async fn finish(mut self, workdir: &Path, ending: Ending, exit: Option<ExitInfo>, tail: &VecDeque<String>) {
        let failed = TaskEvent::Finished { success: false };
        let (mut run_status, mut task_event, mut reason) = match (ending.clone(), exit) {
            (Ending::Stopped, _) => (RunStatus::Stopped, TaskEvent::Stopped, Some("stopped by user".to_string())),
            (Ending::Shutdown | Ending::Detached, _) => {
                (RunStatus::Interrupted, TaskEvent::Interrupted, Some("bosun stopped the agent when its daemon shut down".to_string()))
            }
            (Ending::OverBudget(why), _) => (RunStatus::Stopped, TaskEvent::OutOfBudget, Some(why)),
            (_, _) if self.interrupted => (RunStatus::Stopped, TaskEvent::Stopped, Some("turn interrupted by user".to_string())),
            (Ending::TimedOut(why) | Ending::Failed(why), _) => (RunStatus::Failed, failed, Some(why)),
            (Ending::Natural, Some(e)) if e.success() => (RunStatus::Succeeded, TaskEvent::Finished { success: true }, None),
            (Ending::Natural, Some(e)) => (RunStatus::Failed, failed, Some(failure_reason(&e, tail))),
            (Ending::Natural, None) => (RunStatus::Failed, failed, Some("the agent vanished".to_string())),
        };
        // The holder killed the run's cgroup before it told the exit; one whose holder
        // died meanwhile is killed here, before its leftovers are committed.
        if self.held
            && let Some(holder) = self.engine.config.holder(self.task.id, self.run.id, None)
        {
            let _ = tokio::task::spawn_blocking(move || holder.end_cgroup()).await;
        }
        match workspace::commit_leftovers(&self.task, workdir, &self.run.agent, &self.resolving).await {
            Ok(Some(sha)) => {
                self.emit(EventKind::status("committed", format!("bosun committed the agent's uncommitted work as {sha}"))).await
            }
            Ok(None) => {}
            // Conflict markers or a detached HEAD: whatever the agent said, the run failed.
            Err(WorkspaceError::NotCommitted(why)) => {
                self.emit(EventKind::Error { message: why.clone() }).await;
                if run_status == RunStatus::Succeeded {
                    (run_status, task_event, reason) = (RunStatus::Failed, failed, Some(why));
                }
            }
            Err(e) => self.emit(EventKind::Error { message: format!("cannot commit the agent's leftover work: {e}") }).await,
        }
        self.gather_deliverables(workdir).await;
        let message = reason.clone().unwrap_or_else(|| exit.map(|e| e.describe()).unwrap_or_default());
        let end = RunEnd { status: run_status, exit_code: exit.and_then(|e| e.code).map(i64::from), reason, task_event };
        self.end(end, message).await;
    }

    /// The files the run handed over (declared, or changed in a scratch workspace),
    /// for its end to record; those refused are logged as errors, the rest as one
    /// status line.
    async fn gather_deliverables(&mut self, workdir: &Path) {
        // The declared ones are read from the store: every event of the run is in it first.
        self.engine.hub.flush().await;
        let (found, refused) = crate::deliverables::after_run(self.engine, &self.task, self.run.id, workdir).await;
        for error in refused {
            self.emit(error).await;
        }
        if !found.is_empty() {
            let names: Vec<&str> = found.iter().map(|d| d.path.as_str()).take(10).collect();
            let more = if found.len() > names.len() { format!(" and {} more", found.len() - names.len()) } else { String::new() };
            let what = format!("{}: {}{more}", bosun_core::count(found.len(), "deliverable"), names.join(", "));
            self.emit(EventKind::status("delivered", what)).await;
        }
        self.deliverables = found;
    }

    /// The run never got a process: record why.
    pub(super) async fn fail_before_start(mut self, why: String) {
        tracing::warn!("run failed to start: {why}");
        crate::deliverables::forget(self.engine, self.task.id, self.run.id);
        self.emit(EventKind::Error { message: why.clone() }).await;
        let end = RunEnd {
            status: RunStatus::Failed,
            exit_code: None,
            reason: Some(why.clone()),
            task_event: TaskEvent::Finished { success: false },
        };
        self.end(end, why).await;
    }

    /// The final status event is stored before the task's new status, so whoever
    /// sees the task settled can find every event of the run in the store.
    pub(super) async fn end(&mut self, end: RunEnd, message: String) {
        if let Err(e) = self.engine.store.expire_approvals(self.run.id, Utc::now()).await {
            tracing::warn!("cannot expire the run's approvals: {e}");
        }
        // What the task becomes (running and needs_input end the same way).
        let becomes = self.task.status.apply(end.task_event).map(TaskStatus::as_str).unwrap_or("ended");
        if !self.final_stored {
            self.emit(EventKind::status(becomes, message)).await;
        }
        self.engine.hub.flush().await;
        crate::crash::point("run-final-event");
        let stored = self.record_end(end).await;
        self.engine.hub.forget_run(self.run.id);
        // The run is stored, its events with it: the spool has served (the raw run log
        // keeps the text as it was read live). Kept when the store failed.
        if self.held
            && stored
            && let Some(holder) = self.engine.config.holder(self.task.id, self.run.id, None)
        {
            let _ = std::fs::remove_file(&holder.spool);
            if std::fs::metadata(&holder.log).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&holder.log);
            }
        }
        self.engine.publish(&self.task);
        release(self.engine, self.task.id);
        for waiter in self.stop_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }
}

impl RunCtx<'_> {
    /// Finishes the run in the store. A full disk is waited out (the agent is gone,
    /// the slot stays taken): the end is written once space is freed, or, if the
    /// daemon stops first, crash recovery ends the run at the next start.
    async fn record_end(&mut self, end: RunEnd) -> bool {
        let mut delay = std::time::Duration::from_millis(100);
        let mut closing = self.engine.closing();
        loop {
            match self.engine.store.finish_run_with(self.run.id, end.clone(), &self.deliverables, Utc::now()).await {
                Ok(task) => {
                    self.task = task;
                    return true;
                }
                Err(StoreError::Full) if !*closing.borrow() => {
                    tracing::warn!("cannot record the end of the run: the disk is full; retrying in {delay:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = crate::until_closing(&mut closing) => {}
                    }
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!("cannot record the end of the run: {e}");
                    return false;
                }
            }
        }
    }
}

pub(super) fn failure_reason(exit: &ExitInfo, tail: &VecDeque<String>) -> String {
    let last: Vec<&str> = tail.iter().rev().filter(|l| !l.trim().is_empty()).take(3).map(String::as_str).collect();
    if last.is_empty() {
        exit.describe()
    } else {
        let lines: Vec<&str> = last.into_iter().rev().collect();
        format!("{}: {}", exit.describe(), lines.join(" | "))
    }
}
