//! Starting the engine (data dir, store, crash recovery, the dispatcher, the PR
//! refresher, the notification sender) and stopping it (every live run, then the event writer): the top of the
//! engine, the only module that wires the others together.

use std::fs::File;
use std::sync::Arc;
use std::time::Duration;

use bosun_store::{CachedStore, SqliteStore, Store};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::StartError;
use crate::hub::Hub;
use crate::state::Engine;
use crate::trigger::Trigger;

/// A started engine: its state and the tasks that run it.
pub struct Running {
    pub engine: Arc<Engine>,
    dispatcher: JoinHandle<()>,
    writer: JoinHandle<()>,
    /// The notification sender: ends (aborting attempts under way) once closing.
    sender: JoinHandle<()>,
    /// Held while running: one engine per data dir.
    _lock: File,
}

impl Engine {
    /// Opens the data dir (creating it, taking its lock) and its SQLite store,
    /// recovers from a previous crash, and starts the dispatcher.
    pub async fn start(mut config: Config) -> Result<Running, StartError> {
        config.prepare_dirs()?;
        let (lock, unclean) = config.lock_data_dir()?;
        config.cgroups = run_cgroups(&config);
        let db = config.data_dir.join("bosun.db");
        let existed = db.exists();
        let sqlite = SqliteStore::open(&db).await.map_err(|e| match e {
            bosun_store::StoreError::Damaged(problem) => StartError::Damaged { path: db.clone(), problem, more: 0 },
            e => StartError::Store(e),
        })?;
        // After a crash (or a kill, or a power cut): is the database whole? Refuse to
        // run on a damaged one rather than make it worse.
        if unclean && existed {
            let started = std::time::Instant::now();
            let problems = sqlite.quick_check().await?;
            if let Some(first) = problems.first() {
                return Err(StartError::Damaged { path: db, problem: first.clone(), more: problems.len() - 1 });
            }
            tracing::info!(took = ?started.elapsed(), "the last daemon did not stop cleanly: the store checked out whole");
        }
        let store: Arc<dyn Store> = Arc::new(CachedStore::new(sqlite));
        let (triggers, trigger_rx) = mpsc::unbounded_channel();
        let (hub, writer) = Hub::start(store.clone());
        let prices = config.load_prices()?;
        let vapid = crate::ops::load_or_create_vapid(&config.data_dir)
            .map_err(|source| StartError::Dir { path: config.data_dir.join("vapid.key"), source })?;
        let link_key = crate::ops::load_or_create_link_key(&config.data_dir)
            .map_err(|source| StartError::Dir { path: config.data_dir.join("link.key"), source })?;
        let engine = Arc::new(Engine::new(config, prices, store, hub, triggers, vapid, link_key));
        crate::pool::repair(&engine).await?;
        crate::recovery::recover(&engine).await?;
        crate::pool::fill_all(&engine).await;
        tokio::spawn(engine.clone().finish_merges());
        tokio::spawn(crate::detect::report_runtimes());
        tokio::spawn(crate::watch::config(engine.clone()));
        let dispatcher = tokio::spawn(crate::dispatch::run(engine.clone(), trigger_rx));
        engine.trigger(Trigger::Startup);
        let sender = tokio::spawn(crate::sender::run(engine.clone()));
        tokio::spawn(crate::sources::poll(engine.clone()));
        tokio::spawn(crate::sources::write_back(engine.clone()));
        if let Some(every) = engine.config.pr_refresh {
            tokio::spawn(crate::ops::pr::refresh_open_prs(engine.clone(), every));
        }
        Ok(Running { engine, dispatcher, writer, sender, _lock: lock })
    }
}

/// Whether runs get cgroups of their own (held runs only: a run's cgroup must outlive
/// the daemon with its holder), said once in the log: which mechanism holds.
fn run_cgroups(config: &Config) -> Option<bosun_agents::cgroup::Cgroups> {
    if config.holder_exe.is_none() {
        tracing::info!("agents are the daemon's children: a run's processes are found by process group and run token");
        return None;
    }
    match bosun_agents::cgroup::probe() {
        Ok(cgroups) => {
            tracing::info!("{}", cgroups.describe());
            Some(cgroups)
        }
        Err(why) => {
            tracing::info!("no cgroups for runs ({why}): a run's processes are found by process group and run token");
            None
        }
    }
}

impl Running {
    /// Stops the dispatcher, then lets go of every held agent (or, without holders or
    /// with `stop_agents_on_exit`, stops every live run: their tasks become
    /// interrupted), and waits until their last events are stored.
    pub async fn shutdown(self) {
        let Running { engine, dispatcher, writer, sender, _lock } = self;
        let data_dir = engine.config.data_dir.clone();
        engine.close();
        if engine.config.agents_outlive_daemon() {
            tracing::info!("shutting down: agents keep running under their holders for the next daemon");
        } else {
            tracing::info!("shutting down: stopping live runs");
        }
        engine.trigger(Trigger::Shutdown);
        let _ = dispatcher.await;
        // It holds the engine: gone before the last handle on the hub is dropped.
        if tokio::time::timeout(Duration::from_secs(5), sender).await.is_err() {
            tracing::warn!("the notification sender did not stop in time");
        }
        crate::supervisor::shutdown_all(&engine).await;
        engine.hub.flush().await;
        let store = engine.store.clone();
        drop(engine);
        // The writer ends once every handle on the hub is gone; do not hang on a straggler.
        if tokio::time::timeout(Duration::from_secs(5), writer).await.is_err() {
            tracing::warn!("the event writer did not stop in time");
        }
        // Explicitly, not when the last handle happens to drop: a clean stop leaves the
        // database whole in its file (the disk tests rely on it).
        if tokio::time::timeout(Duration::from_secs(5), store.close()).await.is_err() {
            tracing::warn!("the store did not close in time");
        }
        // Stopped cleanly: the next daemon need not check the store. Removed while the
        // lock is still held.
        let _ = std::fs::remove_file(data_dir.join("daemon.lock"));
        drop(_lock);
    }
}
