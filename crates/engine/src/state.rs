//! The engine's shared state ([`Engine`]) and what lives beside it (the live runs and
//! their control messages). Everything else in the engine uses this module; it uses
//! none of them but the hub, the config and the trigger.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bosun_core::task::TaskId;
use bosun_core::{Approval, Event, Task};
use bosun_store::Store;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::Config;
use crate::hub::Hub;
use crate::trigger::Trigger;

/// The engine's shared state; the server, the dispatcher and every supervisor hold
/// it as `Arc<Engine>`.
pub struct Engine {
    pub config: Config,
    /// Prices per model, to cost runs whose CLI reports only tokens.
    pub(crate) prices: bosun_core::pricing::PriceTable,
    pub store: Arc<dyn Store>,
    pub(crate) hub: Hub,
    triggers: mpsc::UnboundedSender<Trigger>,
    /// Live runs by task. A std mutex: held only to insert, remove or clone a
    /// handle, never across an await.
    pub(crate) live: Mutex<HashMap<TaskId, LiveRun>>,
    /// Becomes true when the engine starts shutting down: ends SSE streams, which
    /// would otherwise keep the server's graceful shutdown waiting forever.
    closing: watch::Sender<bool>,
    /// Woken whenever a run ends (shutdown waits on it).
    pub(crate) run_ended: tokio::sync::Notify,
    /// One lock per repo (by root path), held around git operations that change the
    /// repo's shared state: creating and removing worktrees (git does not support
    /// two `worktree add` at once) and merging.
    repo_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// bosun's VAPID private key (Web Push), from `<data-dir>/vapid.key`.
    pub(crate) vapid: Vec<u8>,
    /// The key action-link secrets are derived from, from `<data-dir>/link.key`.
    pub(crate) link_key: ring::hmac::Key,
    /// The HTTP client notification channels share (one connection pool).
    pub(crate) http: reqwest::Client,
    /// Per delivery being retried, the Web Push endpoints that already took it.
    pub(crate) pushed: std::sync::Mutex<HashMap<i64, crate::sender::Pushed>>,
    /// Wakes the notification sender (besides the store's change feed).
    pub(crate) sender_wake: tokio::sync::Notify,
    /// Task sources: a connector per source (kept for what it caches, like its own
    /// user), a lock per source (one sync at a time), and the wake-up of the poller and
    /// the write-back when sources are added or removed.
    pub(crate) connectors: Mutex<HashMap<i64, Arc<dyn bosun_sources::Connector>>>,
    pub(crate) source_locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    pub(crate) sources_wake: tokio::sync::Notify,
    /// Repos whose worktree pool a background pass is filling, each with the base of
    /// one more pass asked for meanwhile (see `pool::refill`). A std mutex: never held
    /// across an await.
    pub(crate) refills: Mutex<HashMap<String, Option<String>>>,
}

/// The engine's handle on a live run (in [`Engine::live`], keyed by task).
pub(crate) struct LiveRun {
    pub profile: String,
    /// Why its agent cannot take a message while it runs (a `command` agent that is
    /// not `interactive` has stdin closed after the prompt); None when it can.
    pub deaf: Option<String>,
    pub ctl: mpsc::UnboundedSender<Control>,
}

/// What others tell a run's supervisor.
pub(crate) enum Control {
    /// A user asked to stop; answered once the run is finished and stored.
    Stop(oneshot::Sender<()>),
    /// The daemon is shutting down.
    Shutdown,
    /// A human's message for the agent (`bosun say`), who sent it, and the answer:
    /// how it reached the agent (now, or with its prompt when it has not started
    /// yet), or None when the run could not take it.
    Say { text: String, from: Option<String>, delivered: oneshot::Sender<Option<bosun_api::Delivery>> },
    /// A human's answer to a pending approval.
    Answer { approval: Box<Approval>, allow: bool, message: Option<String> },
    /// Cut the agent's current turn short (the runtime's own interrupt); the run ends
    /// as stopped once the agent has wound down.
    Interrupt,
}

impl Engine {
    pub(crate) fn new(
        config: Config,
        prices: bosun_core::pricing::PriceTable,
        store: Arc<dyn Store>,
        hub: Hub,
        triggers: mpsc::UnboundedSender<Trigger>,
        vapid: Vec<u8>,
        link_key: Vec<u8>,
    ) -> Engine {
        Engine {
            config,
            prices,
            store,
            hub,
            triggers,
            live: Mutex::new(HashMap::new()),
            closing: watch::Sender::new(false),
            run_ended: tokio::sync::Notify::new(),
            repo_locks: Mutex::new(HashMap::new()),
            vapid,
            link_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &link_key),
            http: bosun_notify::client(),
            pushed: std::sync::Mutex::default(),
            sender_wake: tokio::sync::Notify::new(),
            connectors: Mutex::new(HashMap::new()),
            source_locks: Mutex::new(HashMap::new()),
            sources_wake: tokio::sync::Notify::new(),
            refills: Mutex::new(HashMap::new()),
        }
    }

    /// Tells task subscribers and the dispatcher that a task changed.
    pub(crate) fn publish(&self, task: &Task) {
        self.hub.task_changed(task);
        self.trigger(Trigger::TaskChanged(task.id));
    }

    /// The lock serializing repo-wide git operations on `repo`.
    pub(crate) fn repo_lock(&self, repo: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.repo_locks.lock().unwrap().entry(repo.to_string()).or_default().clone()
    }

    pub(crate) fn trigger(&self, t: Trigger) {
        let _ = self.triggers.send(t);
    }

    /// Why the live run of `task_id` cannot take messages, if it cannot.
    pub(crate) fn deaf(&self, task_id: TaskId) -> Option<String> {
        self.live.lock().unwrap().get(&task_id).and_then(|run| run.deaf.clone())
    }

    /// Passes a control message to the live run of `task_id`. False if none is live.
    pub(crate) fn control(&self, task_id: TaskId, control: Control) -> bool {
        match self.live.lock().unwrap().get(&task_id) {
            Some(run) => run.ctl.send(control).is_ok(),
            None => false,
        }
    }

    /// Stored events as they are broadcast (after storing), for live followers.
    pub fn subscribe_events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.hub.subscribe_events()
    }

    /// Every task change, as it happens. Lagging receivers should re-read the list.
    pub fn subscribe_tasks(&self) -> broadcast::Receiver<Arc<Task>> {
        self.hub.subscribe_tasks()
    }

    /// Becomes true once the engine is shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Starts shutting down: long-lived streams end ([`Engine::closing`]).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// Resolves once `closing` turns true (the guard is dropped here, which keeps the
/// caller's future `Send`).
pub async fn until_closing(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await.map(|_| ());
}
