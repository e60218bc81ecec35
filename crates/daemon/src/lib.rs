//! bosun's daemon: the dispatcher, run supervision, the event log writer and the
//! HTTP API, wired together by [`serve`].
//!
//! # Theory of operation
//!
//! Everything that can make work happen is a [`dispatch::Trigger`] sent to one
//! dispatcher task: a task was queued, a run ended, a task was retried. On each
//! trigger the dispatcher reads the queued tasks from the store, routes each to an
//! agent profile, asks [`bosun_core::schedule::pick`] which may start under the
//! global and per-profile limits, and starts those. There is no polling loop.
//!
//! Starting a run is a sequence of persisted steps: the store moves the task to
//! `running` and creates the run in `starting` (one transaction), the workspace is
//! recorded then created, the process is spawned and its pid recorded. A
//! [`supervisor`] task per run then owns the process: it forwards every output line
//! to the event writer, obeys stop requests, and when the process is gone commits
//! what the agent left uncommitted, writes the final status event, and only then
//! finishes the run in the store.
//!
//! Events flow through one writer task ([`hub`]): it assigns each task's sequence
//! numbers, stores events in batches, and only after they are stored broadcasts them
//! to SSE subscribers. A subscriber replays from the store and then follows the
//! broadcast, de-duplicating by sequence number, so it never misses an event.
//!
//! On start, runs the store still holds as live belong to a daemon that died: they
//! become `interrupted`, and leftover processes are found by their run token and
//! killed ([`recovery`]). On shutdown every live run's process group is terminated
//! and its task marked `interrupted`, so nothing is orphaned.

pub mod api;
mod cleanup;
pub mod config;
mod dispatch;
mod github;
mod hub;
mod profiles;
mod recovery;
mod supervisor;
mod workspace;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bosun_core::Task;
use bosun_core::task::TaskId;
use bosun_store::{SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub use config::Config;
use dispatch::Trigger;
use hub::Hub;
use supervisor::RunControl;

/// The daemon's shared state; handlers and tasks hold it as `Arc<Daemon>`.
pub struct Daemon {
    pub config: Config,
    /// Prices per model, to cost runs whose CLI reports only tokens.
    prices: bosun_core::pricing::PriceTable,
    pub store: Arc<dyn Store>,
    hub: Hub,
    triggers: mpsc::UnboundedSender<Trigger>,
    /// Live runs by task. A std mutex: held only to insert, remove or clone a
    /// handle, never across an await.
    live: Mutex<HashMap<TaskId, RunControl>>,
    /// Becomes true when the daemon starts shutting down: ends SSE streams, which
    /// would otherwise keep the server's graceful shutdown waiting forever.
    closing: tokio::sync::watch::Sender<bool>,
    /// Woken whenever a run ends (shutdown waits on it).
    run_ended: tokio::sync::Notify,
    /// One lock per repo (by root path), held around git operations that change the
    /// repo's shared state: creating and removing worktrees (git does not support
    /// two `worktree add` at once) and merging.
    repo_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Daemon {
    /// Tells `/api/events` subscribers and the dispatcher that a task changed.
    fn publish(&self, task: &Task) {
        self.hub.task_changed(task);
        self.trigger(Trigger::TaskChanged(task.id));
    }

    /// The lock serializing repo-wide git operations on `repo`.
    fn repo_lock(&self, repo: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.repo_locks.lock().unwrap().entry(repo.to_string()).or_default().clone()
    }

    fn trigger(&self, t: Trigger) {
        let _ = self.triggers.send(t);
    }
}

/// Opens the data dir (creating it), recovers from a previous crash, and serves the
/// API on `listener` until `shutdown` completes; then stops every live run.
pub async fn serve(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    config.prepare_dirs()?;
    let _lock = config.lock_data_dir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.data_dir.join("bosun.db")).await?);
    serve_with_store(config, store, listener, shutdown).await
}

/// [`serve`] on a store the caller opened (tests, benchmarks).
pub async fn serve_with_store(
    config: Config,
    store: Arc<dyn Store>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut config = config;
    config.public_url = std::env::var("BOSUN_PUBLIC_URL").unwrap_or_else(|_| format!("http://{}", listener.local_addr().map(|a| a.to_string()).unwrap_or_default()));
    let (triggers, trigger_rx) = mpsc::unbounded_channel();
    let (hub, writer) = Hub::start(store.clone());
    let prices = config.load_prices()?;
    let daemon = Arc::new(Daemon {
        prices,
        config,
        store,
        hub,
        triggers,
        live: Mutex::new(HashMap::new()),
        closing: tokio::sync::watch::Sender::new(false),
        run_ended: tokio::sync::Notify::new(),
        repo_locks: Mutex::new(HashMap::new()),
    });
    recovery::recover(&daemon).await?;
    tokio::spawn(report_runtimes());
    let dispatcher = tokio::spawn(dispatch::run(daemon.clone(), trigger_rx));
    daemon.trigger(Trigger::Startup);
    if let Some(every) = daemon.config.pr_refresh {
        tokio::spawn(refresh_prs(daemon.clone(), every));
    }

    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %daemon.config.data_dir.display(), "bosun daemon listening");
    let closing = daemon.clone();
    let shutdown = async move {
        shutdown.await;
        closing.closing.send_replace(true);
    };
    let mut names = daemon.config.allowed_hosts.clone();
    names.extend(daemon.config.public_url.parse::<axum::http::Uri>().ok().and_then(|u| u.host().map(str::to_string)));
    let guard = api::Guard::new(addr, &names);
    axum::serve(listener, api::router(daemon.clone(), guard)).with_graceful_shutdown(shutdown).await?;

    tracing::info!("shutting down: stopping live runs");
    daemon.trigger(Trigger::Shutdown);
    let _ = dispatcher.await;
    supervisor::shutdown_all(&daemon).await;
    daemon.hub.flush().await;
    drop(daemon);
    // The writer ends once every handle on the hub is gone; do not hang on a straggler.
    if tokio::time::timeout(std::time::Duration::from_secs(5), writer).await.is_err() {
        tracing::warn!("the event writer did not stop in time");
    }
    Ok(())
}

/// Checks open pull requests now and then: a PR merged on the forge makes its task
/// done. (The forge has no way to call us on a laptop; this is the one timer.)
async fn refresh_prs(daemon: Arc<Daemon>, every: std::time::Duration) {
    let mut closing = daemon.closing.subscribe();
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = api::until_closing(&mut closing) => return,
        }
        let filter = bosun_store::TaskFilter { statuses: vec![bosun_core::TaskStatus::Review], ..Default::default() };
        let Ok(tasks) = daemon.store.list_tasks(&filter).await else { continue };
        for task in tasks.into_iter().filter(|t| t.pr.as_ref().is_some_and(|p| p.state == bosun_core::PrState::Open)) {
            if let Err(e) = api::refresh_pr(&daemon, task).await {
                tracing::warn!("refreshing a pull request failed: {e}");
            }
        }
    }
}

/// Says at start-up which agent CLIs are there to run (and which are not).
async fn report_runtimes() {
    use bosun_core::Runtime;
    for runtime in [Runtime::ClaudeCode, Runtime::Codex, Runtime::Gemini] {
        let found = api::detect(&runtime).await;
        match (found.path, found.problem) {
            (Some(path), _) => tracing::info!(runtime = runtime.name(), %path, version = found.version.as_deref().unwrap_or("?"), "agent CLI found"),
            (None, Some(problem)) => tracing::info!(runtime = runtime.name(), "agent CLI missing: {problem}"),
            (None, None) => {}
        }
    }
}
