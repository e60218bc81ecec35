//! Task sources at work: the poller and the write-back, two tasks started with the
//! engine.
//!
//! The poller syncs each source on its interval (a timer, since a laptop cannot be
//! called by Notion, GitHub or Linear), one sync or write at a time per source, sources
//! independent of each other: a failing one records its error and holds up none of
//! the others. A sync reads the items changed since the source's mark; each ready
//! item not yet a task is read again (the claim: it must still be ready) and becomes a
//! task with its link in one store transaction (an item is never two tasks). Then
//! every open task of the source is checked against its item: an item a person moved
//! away, closed or deleted while bosun worked on it stops the run (the work is kept);
//! a person's new comment reaches the agent as `say`, or as `reply` once in review.
//!
//! The write-back carries the store's queue of source writes (queued by each task
//! transition in its own transaction) to the services, oldest first: it re-reads the
//! item and never writes over a person's newer change, shows the task's phase, and
//! comments (the task link, an ask, the agent's summary with the diff stat and cost).
//! A write is marked done only after the service took it; a failure is tried again
//! with backoff. It wakes on store changes and on what is due; it never polls.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use bosun_api::SayRequest;
use bosun_api::source::SyncResult;
use bosun_core::source::{ItemState, Phase, READY_MARK, Source, SourceConfig, Written, moved_by_person, summary_comment};
use bosun_core::task::TaskId;
use bosun_core::{EventKind, NewTask, Task, TaskStatus};
use bosun_sources::{Connector, Mark, SourceError, comment_cursor};
use bosun_store::sources::{Link, Linked, NewLink, SourceWrite, SyncMark};
use chrono::{Duration, Utc};

use crate::Engine;
use crate::state::until_closing;

/// Attempts of a write-back before it is given up (its error stays on the source).
const MAX_WRITE_ATTEMPTS: u32 = 12;

/// The poller: runs until the engine closes.
pub(crate) async fn poll(engine: Arc<Engine>) {
    let mut closing = engine.closing();
    let mut syncs = tokio::task::JoinSet::new();
    // The sources with a sync under way (not started again until it ends).
    let mut busy = std::collections::HashSet::new();
    loop {
        while let Some(done) = syncs.try_join_next() {
            if let Ok(id) = done {
                busy.remove(&id);
            }
        }
        let now = Utc::now();
        let mut next: Option<chrono::DateTime<Utc>> = None;
        match engine.store.sources().sources().await {
            Ok(sources) => {
                for source in sources {
                    let due = source.last_sync_at.map_or(now, |t| t + Duration::seconds(source.interval_secs as i64));
                    if due <= now {
                        let after = now + Duration::seconds(source.interval_secs as i64);
                        next = Some(next.map_or(after, |n| n.min(after)));
                        if busy.insert(source.id) {
                            let engine = engine.clone();
                            syncs.spawn(async move {
                                let _ = engine.sync_source(&source).await;
                                source.id
                            });
                        }
                    } else {
                        next = Some(next.map_or(due, |n| n.min(due)));
                    }
                }
            }
            Err(e) => {
                tracing::warn!("the source poller could not read the store: {e}");
                next = Some(now + Duration::seconds(5));
            }
        }
        let wait = next.map(|t| (t - Utc::now()).to_std().unwrap_or(StdDuration::ZERO)).unwrap_or(StdDuration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep(wait.max(StdDuration::from_millis(200))) => {}
            _ = engine.sources_wake.notified() => {}
            Some(Ok(id)) = syncs.join_next(), if !syncs.is_empty() => { busy.remove(&id); }
            _ = until_closing(&mut closing) => {
                syncs.abort_all();
                return;
            }
        }
    }
}

impl Engine {
    /// The connector of `source` (made once; its token read from the daemon's environment).
    pub(crate) async fn connector(&self, source: &Source) -> Result<Arc<dyn Connector>, SourceError> {
        if let Some(c) = self.connectors.lock().unwrap().get(&source.id) {
            return Ok(c.clone());
        }
        let c = make_connector(source).await?;
        self.connectors.lock().unwrap().insert(source.id, c.clone());
        Ok(c)
    }

    /// The lock a source's syncs and write-backs take: a sync never compares an item
    /// with what bosun wrote while a write to it is under way.
    fn source_lock(&self, id: i64) -> Arc<tokio::sync::Mutex<()>> {
        self.source_locks.lock().unwrap().entry(id).or_default().clone()
    }

    /// Syncs `source` now (after any sync of it under way) and records how it went.
    pub async fn sync_source(&self, source: &Source) -> Result<SyncResult, SourceError> {
        let lock = self.source_lock(source.id);
        let _one = lock.lock().await;
        let now = Utc::now();
        let outcome = self.sync_inner(source).await;
        let store = self.store.sources();
        let recorded = match &outcome {
            Ok((mark, seen, created, problems)) => {
                let error = (!problems.is_empty()).then(|| problems.join("; "));
                store.record_sync(source.id, Some(mark), *seen, error.as_deref(), now).await.map(|_| created.clone())
            }
            Err(e) => {
                tracing::info!(source = source.id, "sync failed: {e}");
                store.record_sync(source.id, None, 0, Some(&e.to_string()), now).await.map(|_| Vec::new())
            }
        };
        if let Err(e) = &recorded {
            tracing::warn!(source = source.id, "cannot record the sync: {e}");
        }
        let (_, seen, created, _) = outcome?;
        let source = store.source(source.id).await.unwrap_or_else(|_| source.clone());
        Ok(SyncResult { source, seen, created })
    }

    /// One sync: new tasks from ready items, then the open tasks checked against their
    /// items. Returns the next mark, the items read, the tasks made, and the items
    /// that could not become tasks (why, per item).
    async fn sync_inner(&self, source: &Source) -> Result<(SyncMark, i64, Vec<TaskId>, Vec<String>), SourceError> {
        let conn = self.connector(source).await?;
        let store = self.store.sources();
        let mark = store.sync_mark(source.id).await.map_err(store_error)?;
        let (items, next) = conn.changed(&Mark { cursor: mark.cursor, state: mark.state }).await?;
        let mut created = Vec::new();
        let mut problems = Vec::new();
        // The oldest item that could not become a task: the next sync reads from it
        // again (once its page, or bosun's profiles, are fixed, it becomes one).
        let mut hold: Option<chrono::DateTime<Utc>> = None;
        for item in &items {
            if item.state != ItemState::Ready || store.linked(source.id, &item.external_id).await.map_err(store_error)?.is_some() {
                continue;
            }
            // The claim: read it again; only a page still ready becomes a task.
            let Some(item) = conn.item(&item.external_id).await? else { continue };
            match self.take_item(source, conn.as_ref(), &item).await? {
                Ok(Some(id)) => created.push(id),
                Ok(None) => {}
                Err(problem) => {
                    problems.push(problem);
                    hold = Some(hold.map_or(item.edited_at, |h| h.min(item.edited_at)));
                }
            }
        }
        for (link, task) in store.open_links(source.id).await.map_err(store_error)? {
            if let Err(e) = self.follow(source, conn.as_ref(), &link, &task).await {
                problems.push(format!("{} {}: {e}", source.kind().service(), link.reference));
            }
        }
        let mut next = next;
        if let Some(at) = hold {
            next.cursor = Some(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            // An unchanged list must not be answered "not modified": it is read again.
            if let Some(state) = next.state.as_object_mut() {
                state.remove("etag");
            }
        }
        Ok((SyncMark { cursor: next.cursor, state: next.state }, items.len() as i64, created, problems))
    }

    /// An item read just now: a task when it is ready and not one yet (Ok(None): it is
    /// not ready, or is a task already). Err: why it cannot become one (an unknown agent, a
    /// bad repo), for the source's error.
    async fn take_item(
        &self,
        source: &Source,
        conn: &dyn Connector,
        item: &bosun_core::source::Item,
    ) -> Result<Result<Option<TaskId>, String>, SourceError> {
        let store = self.store.sources();
        if item.state != ItemState::Ready {
            return Ok(Ok(None));
        }
        let body = conn.body(item).await?;
        let service = source.kind().service();
        let new = NewTask {
            title: item.title.clone(),
            body: format!("{body}\n\n(From {service}: {})", web_url(&item.url)).trim_start().to_string(),
            repo: item.repo.clone().or(source.repo.clone()),
            agent: item.agent.clone(),
            tags: item.tags.clone(),
            assignee: item.assignee.clone(),
            source: Some(source.kind().as_str().to_string()),
            ..NewTask::default()
        };
        let record = match self.prepare_task(new).await {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("{} {}: {e}", service, item.reference))),
        };
        let link = NewLink {
            source_id: source.id,
            external_id: item.external_id.clone(),
            url: web_url(&item.url),
            reference: item.reference.clone(),
            written: Written { state: READY_MARK.into(), at: item.edited_at },
        };
        match store.create_linked(record, link, Utc::now()).await.map_err(store_error)? {
            Linked::Created(task) => {
                tracing::info!(source = source.id, task = task.id, item = %item.external_id, "a task from {service}");
                // Comments made before the task are its past, not messages for the agent.
                if let Some(last) = conn.comments(&item.external_id, None).await.unwrap_or_default().last() {
                    let _ = store.set_comment_cursor(task.id, &comment_cursor(last)).await;
                }
                self.publish(&task);
                Ok(Ok(Some(task.id)))
            }
            Linked::Exists(_) => Ok(Ok(None)),
        }
    }

    /// Reads the items a webhook named again, now, under the source's lock (so a
    /// delivery racing a poll, or a second delivery, finds the first task): a ready item
    /// becomes a task, an item that is a task is followed (a person's move, a comment).
    pub(crate) async fn sync_items(&self, source: &Source, ids: &[String]) -> Result<Vec<TaskId>, SourceError> {
        let lock = self.source_lock(source.id);
        let _one = lock.lock().await;
        let conn = self.connector(source).await?;
        let store = self.store.sources();
        let mut created = Vec::new();
        for id in ids {
            match store.linked(source.id, id).await.map_err(store_error)? {
                Some(task_id) => {
                    let (Some(link), Ok(task)) = (store.link(task_id).await.map_err(store_error)?, self.store.get_task(task_id).await)
                    else {
                        continue;
                    };
                    self.follow(source, conn.as_ref(), &link, &task).await?;
                }
                None => {
                    let Some(item) = conn.item(id).await? else { continue };
                    match self.take_item(source, conn.as_ref(), &item).await? {
                        Ok(Some(task)) => created.push(task),
                        Ok(None) => {}
                        Err(problem) => tracing::info!(source = source.id, "a webhook's item cannot become a task: {problem}"),
                    }
                }
            }
        }
        Ok(created)
    }

    /// An open task against its item: a person's move stops the run; a person's new
    /// comment reaches the agent.
    async fn follow(&self, source: &Source, conn: &dyn Connector, link: &Link, task: &Task) -> Result<(), SourceError> {
        let service = source.kind().service();
        let item = conn.item(&link.external_id).await?;
        let active = task.status.has_live_run() || matches!(task.status, TaskStatus::Queued | TaskStatus::Blocked);
        let moved = match &item {
            None => Some(format!("the item was deleted in {service}")),
            Some(item) => moved_by_person(item, &link.written).map(|why| format!("{why} in {service}")),
        };
        if let Some(why) = moved {
            if active {
                tracing::info!(task = task.id, "stopping: {why}");
                let note = format!("{} {} was {why} by a person: stopping (the work is kept)", service, link.reference);
                self.hub.emit(task.id, 0, EventKind::status("stopping", note)).await;
                let _ = self.stop(task.id).await;
            }
            return Ok(());
        }
        if !matches!(task.status, TaskStatus::Running | TaskStatus::NeedsInput | TaskStatus::Review) {
            return Ok(());
        }
        let comments = conn.comments(&link.external_id, link.comment_cursor.as_deref()).await?;
        let Some(last) = comments.last() else { return Ok(()) };
        let cursor = comment_cursor(last);
        let said: Vec<_> = comments.iter().filter(|c| !c.by_bosun && !c.text.trim().is_empty()).collect();
        // The cursor moves first: a message is delivered at most once, even if the
        // daemon stops between the two.
        self.store.sources().set_comment_cursor(task.id, &cursor).await.map_err(store_error)?;
        for c in said {
            let req =
                SayRequest { text: c.text.trim().to_string(), from: Some(format!("{} ({service})", c.author)), ..SayRequest::default() };
            let outcome = if task.status == TaskStatus::Review {
                self.reply(task.id, req).await.map(|_| ())
            } else {
                self.say(task.id, req).await.map(|_| ())
            };
            if let Err(e) = outcome {
                tracing::info!(task = task.id, "a comment from {service} could not reach the agent: {e}");
            }
        }
        Ok(())
    }

    /// What a write-back posts with a phase (None: nothing).
    async fn write_text(&self, task: &Task, link: &Link, phase: Phase) -> Option<String> {
        let url = format!("{}/tasks/{}", self.config.public_url.trim_end_matches('/'), task.id);
        let t = format!("T-{}", task.id);
        match phase {
            // Once: the first time bosun takes the item.
            Phase::InProgress if link.status_comment.is_none() => {
                let branch = task.branch.as_deref().map(|b| format!(" on branch `{b}`")).unwrap_or_default();
                Some(format!("bosun {t} is working on this{branch}: {url}"))
            }
            Phase::InProgress => None,
            Phase::NeedsInput if task.status == TaskStatus::Triage => {
                Some(format!("bosun {t} needs an agent: no routing rule matches it. Pick one on the board: {url}"))
            }
            Phase::NeedsInput => {
                let asks = self.store.approvals(Some(task.id), true).await.unwrap_or_default();
                let what: Vec<String> = asks
                    .iter()
                    .map(|a| {
                        let target = a.command.as_deref().or(a.path.as_deref()).unwrap_or("go on");
                        format!("{} wants to `{}`", a.tool, target.replace('`', "'"))
                    })
                    .collect();
                let what = if what.is_empty() { "the agent is waiting for an answer".to_string() } else { what.join("; ") };
                Some(format!("bosun {t} needs an answer: {what}. Answer on the board: {url}"))
            }
            Phase::Review | Phase::Done | Phase::Failed => {
                let summary = self.last_agent_message(task.id).await;
                let diffstat = match self.diff(task.id).await {
                    Ok(d) if !d.files.is_empty() => Some(bosun_core::count(d.files.len(), "file") + " changed"),
                    _ => None,
                };
                let cost = task.runs.iter().filter_map(|r| r.usage.cost_usd).reduce(|a, b| a + b);
                let link = match &task.pr {
                    Some(pr) => format!("{url} · pull request {}", pr.url),
                    None => url,
                };
                let mut text = summary_comment(&t, phase, summary.as_deref(), diffstat.as_deref(), cost, Some(&link));
                if phase == Phase::Failed
                    && let Some(reason) = &task.status_reason
                {
                    text.push_str(&format!("\n\nWhy: {reason}"));
                }
                Some(text)
            }
        }
    }

    /// One write-back: the item re-read, never written over a person's change.
    async fn write_back(&self, w: &SourceWrite) -> Result<(), SourceError> {
        let store = self.store.sources();
        let Some(link) = store.link(w.task_id).await.map_err(store_error)? else { return Ok(()) };
        let source = match store.source(link.source_id).await {
            Ok(s) => s,
            Err(bosun_store::StoreError::SourceNotFound(_)) => return Ok(()), // removed: writes nothing more
            Err(e) => return Err(store_error(e)),
        };
        let task = match self.store.get_task(w.task_id).await {
            Ok(t) => t,
            Err(bosun_store::StoreError::TaskNotFound(_)) => return Ok(()),
            Err(e) => return Err(store_error(e)),
        };
        let conn = self.connector(&source).await?;
        let Some(item) = conn.item(&link.external_id).await? else { return Ok(()) };
        if let Some(why) = moved_by_person(&item, &link.written) {
            tracing::info!(task = task.id, "not writing {} back: the item was {why} by a person", w.phase.as_str());
            return Ok(());
        }
        let written = conn.set_phase(&item, w.phase).await?;
        store.set_written(task.id, &written).await.map_err(store_error)?;
        if let Some(text) = self.write_text(&task, &link, w.phase).await {
            let id = conn.status_note(&link.external_id, link.status_comment.as_deref(), &text).await?;
            store.set_status_comment(task.id, &id).await.map_err(store_error)?;
        }
        Ok(())
    }
}

/// The write-back: runs until the engine closes. Each source's writes go in order, in
/// a task of their own: a service that is down holds up only its own source.
pub(crate) async fn write_back(engine: Arc<Engine>) {
    let mut changes = engine.store.changes();
    let mut closing = engine.closing();
    let mut running = tokio::task::JoinSet::new();
    let mut busy = std::collections::HashSet::new();
    loop {
        while let Some(done) = running.try_join_next() {
            if let Ok(id) = done {
                busy.remove(&id);
            }
        }
        let store = engine.store.sources();
        match store.due_writes(Utc::now()).await {
            Ok(due) => {
                let mut by_source: std::collections::BTreeMap<i64, Vec<SourceWrite>> = Default::default();
                for w in due.into_iter().filter(|w| !busy.contains(&w.source_id)) {
                    by_source.entry(w.source_id).or_default().push(w);
                }
                for (source, writes) in by_source {
                    busy.insert(source);
                    let engine = engine.clone();
                    running.spawn(async move {
                        for w in writes {
                            engine.write_one(&w).await;
                        }
                        source
                    });
                }
            }
            Err(e) => tracing::warn!("the source write-back could not read the store: {e}"),
        }
        let next = store.next_write_at().await.ok().flatten();
        let wait = next.map(|t| (t - Utc::now()).to_std().unwrap_or(StdDuration::ZERO)).unwrap_or(StdDuration::from_secs(3600));
        tokio::select! {
            r = changes.recv() => {
                if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
                while changes.try_recv().is_ok() {}
            }
            _ = tokio::time::sleep(wait.max(StdDuration::from_millis(50))) => {}
            _ = engine.sources_wake.notified() => {}
            Some(Ok(id)) = running.join_next(), if !running.is_empty() => { busy.remove(&id); }
            _ = until_closing(&mut closing) => {
                running.abort_all();
                return;
            }
        }
    }
}

impl Engine {
    /// One write-back attempt, recorded: done, or tried again later.
    async fn write_one(&self, w: &SourceWrite) {
        let store = self.store.sources();
        let lock = self.source_lock(w.source_id);
        let outcome = {
            let _one = lock.lock().await;
            self.write_back(w).await
        };
        let now = Utc::now();
        let recorded = match outcome {
            Ok(()) => store.finish_write(w.id, now).await,
            Err(e) => {
                let attempts = w.attempts + 1;
                let next = (attempts < MAX_WRITE_ATTEMPTS).then(|| now + Duration::seconds(2i64.pow(attempts.min(8))));
                tracing::info!(task = w.task_id, attempts, "a write-back failed: {e}");
                store.retry_write(w.id, &e.to_string(), next, now).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!("cannot record a write-back: {e}");
        }
    }
}

pub(crate) async fn make_connector(source: &Source) -> Result<Arc<dyn Connector>, SourceError> {
    let api = source.api_base();
    Ok(match &source.config {
        SourceConfig::Notion(c) => Arc::new(bosun_sources::notion::Notion::new(c.clone(), api, &env_token(&c.token_env)?)?),
        SourceConfig::Github(c) => {
            let token = match &c.token_env {
                Some(name) => env_token(name)?,
                None => crate::forge::token().await.map_err(|e| SourceError::Setup(e.to_string()))?,
            };
            Arc::new(bosun_sources::github::Github::new(c.clone(), api, &token)?)
        }
        SourceConfig::Linear(c) => Arc::new(bosun_sources::linear::Linear::new(c.clone(), api, &env_token(&c.token_env)?)?),
    })
}

/// A token from the daemon's environment.
pub(crate) fn env_token(name: &str) -> Result<String, SourceError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(SourceError::Setup(format!(
            "the environment variable {name} is not set in the daemon's environment (set it where `bosun serve` runs, then restart it)"
        ))),
    }
}

/// An item's address only if it is a web one: the board links to it, and a service's
/// answer must not become a `javascript:` link.
fn web_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.to_string(),
        _ => String::new(),
    }
}

fn store_error(e: bosun_store::StoreError) -> SourceError {
    SourceError::Setup(format!("bosun's store: {e}"))
}
