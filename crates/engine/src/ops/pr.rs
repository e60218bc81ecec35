//! `pr`: push a reviewed task's branch over the repo's remote and open a pull
//! request for it, or read an existing PR's state (a merged PR makes its task done,
//! and its clean worktree is removed). Also the refresher that asks GitHub now and
//! then about open PRs: the forge has no way to call a laptop.

use std::sync::Arc;
use std::time::Duration;

use bosun_api::PrRequest;
use bosun_core::task::TaskId;
use bosun_core::{EventKind, PrState, Task, TaskEvent, TaskStatus};
use bosun_store::TaskFilter;
use chrono::Utc;

use crate::forge::{self, Forge};
use crate::state::until_closing;
use crate::{Engine, OpError, cleanup};

impl Engine {
    #[tracing::instrument(name = "pr", skip_all, fields(task = id))]
    pub async fn pr(&self, id: TaskId, req: PrRequest) -> Result<Task, OpError> {
        let task = self.store.get_task(id).await?;
        if req.refresh || task.pr.as_ref().is_some_and(|p| p.state != PrState::Closed) {
            return self.refresh_pr(task).await;
        }
        if task.status != TaskStatus::Review {
            return Err(OpError::Refused(format!("T-{id} is {}: open a pull request once it is in review", task.status.in_words())));
        }
        let (Some(base), Some(branch)) = (task.base.clone(), task.branch.clone()) else {
            return Err(OpError::Refused(format!("T-{id} has no branch")));
        };
        let repo = forge::repo_of(&task).await?;
        if !repo.branch_exists(&branch).await? {
            return Err(OpError::Refused(format!("T-{id}'s branch `{branch}` no longer exists: nothing to open a pull request for")));
        }
        let forge = Forge::for_repo(&repo).await?;
        {
            let lock = self.repo_lock(&repo.root().to_string_lossy());
            let _serial = lock.lock().await;
            // The remote refusing or out of reach is not the task's state: a 502 naming it.
            repo.push(&forge.remote, &branch).await.map_err(|e| OpError::Unavailable {
                service: "the git remote",
                message: format!("pushing {branch} to `{}` failed: {e}", forge.remote),
            })?;
        }
        let summary = self.last_agent_message(id).await;
        let link = format!("{}/tasks/{id}", self.config.public_url);
        let mut body = forge::pr_body(&task, summary.as_deref(), &link);
        body.push_str(&self.closes(id, &forge).await);
        let pr = forge.open(&branch, &base, &task.title, &body, req.draft).await?;
        self.hub.emit(id, 0, EventKind::status("pr", format!("pull request #{} opened: {}", pr.number, pr.url))).await;
        let task = self.store.set_pr(id, &pr, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }

    /// Reads the PR's state from the forge and stores it; a merged PR makes a task in
    /// review done, and its (clean) worktree is removed.
    async fn refresh_pr(&self, task: Task) -> Result<Task, OpError> {
        let Some(pr) = &task.pr else {
            return Err(OpError::Refused(format!("T-{} has no pull request", task.id)));
        };
        let repo = forge::repo_of(&task).await?;
        let forge = Forge::for_repo(&repo).await?;
        let now = forge.get(pr.number).await?;
        let changed = now != *pr;
        let mut task = if changed { self.store.set_pr(task.id, &now, Utc::now()).await? } else { task };
        if now.state == PrState::Merged && task.status == TaskStatus::Review {
            let reason = format!("pull request #{} merged", now.number);
            self.hub.emit(task.id, 0, EventKind::status("done", reason.clone())).await;
            self.hub.flush().await;
            task = self.store.transition_task(task.id, task.status, TaskEvent::Merged, Some(&reason), Utc::now()).await?;
            if cleanup::assess(&task).await.is_ok_and(|loss| loss.is_empty())
                && let Err(e) = cleanup::remove(self, &task, false).await
            {
                tracing::warn!(task = task.id, "cleanup after the PR merged failed: {e}");
            }
            task = self.store.get_task(task.id).await?;
        }
        if changed {
            self.publish(&task);
        }
        Ok(task)
    }

    /// For a task made of an issue of the PR's own repository: `Closes #N`, so merging
    /// the PR closes the issue; else nothing. A Linear issue gets its link.
    async fn closes(&self, id: TaskId, forge: &Forge) -> String {
        let Ok(Some(link)) = self.store.sources().link(id).await else { return String::new() };
        let Ok(source) = self.store.sources().source(link.source_id).await else { return String::new() };
        match &source.config {
            bosun_core::source::SourceConfig::Github(g) if g.repo.eq_ignore_ascii_case(&forge.slug()) => {
                format!("\n\nCloses #{}", link.external_id)
            }
            bosun_core::source::SourceConfig::Github(_) => format!("\n\nFor {}", link.url),
            bosun_core::source::SourceConfig::Linear(_) => format!("\n\nLinear: {} ({})", link.reference, link.url),
            bosun_core::source::SourceConfig::Notion(_) => format!("\n\nNotion: {}", link.url),
        }
    }

    /// What the agent said last: the PR description's summary.
    pub(crate) async fn last_agent_message(&self, id: TaskId) -> Option<String> {
        let last = self.store.last_seq(id).await.ok()?;
        let events = self.store.events(id, (last - 500).max(0), 500).await.ok()?;
        events.into_iter().rev().find_map(|e| match e.kind {
            EventKind::Message { text, role, .. } if role.as_deref() != Some("user") => Some(text),
            _ => None,
        })
    }
}

/// Checks open pull requests every `every`: a PR merged on the forge makes its task
/// done. Ends when the engine closes.
pub(crate) async fn refresh_open_prs(engine: Arc<Engine>, every: Duration) {
    let mut closing = engine.closing();
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = until_closing(&mut closing) => return,
        }
        let filter = TaskFilter { statuses: vec![TaskStatus::Review], ..Default::default() };
        let Ok(tasks) = engine.store.list_tasks(&filter).await else { continue };
        for task in tasks.into_iter().filter(|t| t.pr.as_ref().is_some_and(|p| p.state == PrState::Open)) {
            let id = task.id;
            if let Err(e) = engine.refresh_pr(task).await {
                tracing::warn!(task = id, "refreshing a pull request failed: {e}");
            }
        }
    }
}
