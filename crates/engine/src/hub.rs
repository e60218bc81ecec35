//! The event log writer and the live broadcasts.
//!
//! All of this daemon's events pass through one writer task. It stores them in
//! batches (one transaction per batch is what makes high ingest rates possible; the
//! store numbers each task's events, so other writers may append too), and
//! broadcasts an event only after it is stored, so what a live subscriber sees is
//! always also in the log. When storing fails for good, the events are not
//! broadcast: their runs are reported on [`Hub::subscribe_failures`], and end
//! failed (the task's next run starts afresh). The channel into the writer is bounded: a flood of agent output
//! slows the agents down (their pipes fill up) instead of growing memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_core::task::{RunId, TaskId};
use bosun_core::{Event, EventKind, NewEvent, Source, Task};
use bosun_store::Store;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

/// Messages waiting for the writer. 200 agents at full speed fit many times over.
const QUEUE: usize = 16 * 1024;
/// Events per store transaction.
const BATCH: usize = 1024;
/// How long the writer waits for more events to join a small batch: events that
/// trickle in (many agents, each printing now and then) then share a transaction
/// instead of paying one each.
const LINGER: Duration = Duration::from_millis(2);
/// Live events kept for slow subscribers; one that falls further behind catches up
/// from the store.
const LIVE_BUFFER: usize = 8 * 1024;
/// Attempts at storing a batch before its events are given up.
const ATTEMPTS: u32 = 5;

enum WriterMsg {
    Event(NewEvent),
    /// A run's first `lines` output lines are taken in: stored with the events
    /// before it, in the same transaction (see [`Store::append_events`]).
    Seen {
        task_id: TaskId,
        run_id: RunId,
        lines: u64,
    },
    /// Answered once everything sent before it is stored (or given up).
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Hub {
    tx: mpsc::Sender<WriterMsg>,
    tasks: broadcast::Sender<Arc<Task>>,
    written: Arc<Written>,
}

/// What the writer tells the world. Apart from `Hub` so that the writer holds no
/// sender of its own queue: it ends once every `Hub` is gone.
struct Written {
    live: broadcast::Sender<Arc<Event>>,
    /// Runs whose events could not be stored, and why (the latest failure).
    failures: broadcast::Sender<(RunId, Arc<str>)>,
    /// The same, kept for a run that asks after missing the broadcast.
    failed: Mutex<HashMap<RunId, Arc<str>>>,
}

impl Hub {
    pub fn start(store: Arc<dyn Store>) -> (Hub, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let written =
            Arc::new(Written { live: broadcast::channel(LIVE_BUFFER).0, failures: broadcast::channel(256).0, failed: Mutex::default() });
        let writer = tokio::spawn(write_loop(store, rx, written.clone()));
        (Hub { tx, tasks: broadcast::channel(1024).0, written }, writer)
    }

    /// Queues one of bosun's own events for the log. Waits when the writer is behind.
    pub async fn emit(&self, task_id: TaskId, run_id: RunId, kind: EventKind) {
        self.emit_as(task_id, run_id, Source::Bosun, kind).await;
    }

    /// Queues an event produced by `source` (an agent, a human).
    pub async fn emit_as(&self, task_id: TaskId, run_id: RunId, source: Source, kind: EventKind) {
        self.emit_at(task_id, run_id, source, kind, None).await;
    }

    /// Like [`Hub::emit_as`], for something that happened at `at` (None: now).
    pub async fn emit_at(&self, task_id: TaskId, run_id: RunId, source: Source, kind: EventKind, at: Option<DateTime<Utc>>) {
        self.emit_charged(task_id, run_id, source, kind, at, None).await;
    }

    /// Queues an event with its ledger entry (a usage report bosun charges).
    pub async fn emit_charged(
        &self,
        task_id: TaskId,
        run_id: RunId,
        source: Source,
        kind: EventKind,
        at: Option<DateTime<Utc>>,
        charge: Option<bosun_core::budget::Charge>,
    ) {
        let ev = NewEvent { task_id, run_id, ts: at.unwrap_or_else(Utc::now), source, kind, charge: charge.map(Box::new) };
        if self.tx.send(WriterMsg::Event(ev)).await.is_err() {
            tracing::error!(task = task_id, run = run_id, "event writer is gone; event dropped");
        }
    }

    /// Records that the run's first `lines` output lines are taken in, atomically with
    /// the events emitted before (what a re-attaching daemon does not replay).
    pub async fn seen(&self, task_id: TaskId, run_id: RunId, lines: u64) {
        let _ = self.tx.send(WriterMsg::Seen { task_id, run_id, lines }).await;
    }

    /// Returns once every event emitted before the call is stored (or given up).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(WriterMsg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    pub fn subscribe_events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.written.live.subscribe()
    }

    pub fn subscribe_tasks(&self) -> broadcast::Receiver<Arc<Task>> {
        self.tasks.subscribe()
    }

    /// Runs whose events could not be stored, as it happens.
    pub fn subscribe_failures(&self) -> broadcast::Receiver<(RunId, Arc<str>)> {
        self.written.failures.subscribe()
    }

    /// Why the run's events could not be stored, if they could not.
    pub fn storage_failure(&self, run_id: RunId) -> Option<Arc<str>> {
        self.written.failed.lock().unwrap().get(&run_id).cloned()
    }

    /// The run is over: forget its failure.
    pub fn forget_run(&self, run_id: RunId) {
        self.written.failed.lock().unwrap().remove(&run_id);
    }

    pub fn task_changed(&self, task: &Task) {
        let _ = self.tasks.send(Arc::new(task.clone()));
    }
}

impl Written {
    /// The runs of `events` lost events: each is told (task-level events, run 0,
    /// have no run to fail; they are logged only).
    fn storing_failed(&self, events: &[NewEvent], why: &str) {
        let why: Arc<str> = Arc::from(why);
        let mut runs: Vec<RunId> = events.iter().map(|e| e.run_id).filter(|r| *r > 0).collect();
        runs.sort_unstable();
        runs.dedup();
        for run in runs {
            self.failed.lock().unwrap().insert(run, why.clone());
            let _ = self.failures.send((run, why.clone()));
        }
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<WriterMsg>, out: Arc<Written>) {
    let mut msgs = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut msgs, BATCH).await > 0 {
        let until = tokio::time::Instant::now() + LINGER;
        while msgs.len() < BATCH && !msgs.iter().any(|m| matches!(m, WriterMsg::Flush(_))) {
            let room = BATCH - msgs.len();
            match tokio::time::timeout_at(until, rx.recv_many(&mut msgs, room)).await {
                Ok(n) if n > 0 => {}
                _ => break, // the linger is over, or every sender is gone
            }
        }
        let mut events = Vec::with_capacity(msgs.len());
        let mut acks = Vec::new();
        let mut seen: HashMap<RunId, (TaskId, u64)> = HashMap::new();
        for msg in msgs.drain(..) {
            match msg {
                WriterMsg::Event(ev) => events.push(ev),
                WriterMsg::Seen { task_id, run_id, lines } => {
                    let entry = seen.entry(run_id).or_insert((task_id, lines));
                    entry.1 = entry.1.max(lines);
                }
                WriterMsg::Flush(ack) => acks.push(ack),
            }
        }
        let seen: Vec<(TaskId, RunId, u64)> = seen.into_iter().map(|(run, (task, lines))| (task, run, lines)).collect();
        for ev in persist(&*store, events, &seen, &out).await {
            let _ = out.live.send(Arc::new(ev));
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// Stores a batch, retrying a few times (a busy database, a full disk being freed).
/// If the batch still fails, each task's events are tried on their own, so that one
/// task's failure (a poisoned row, a trigger) does not lose the others'. Returns what
/// was stored; the tasks of what was not are reported to the hub.
async fn persist(store: &dyn Store, events: Vec<NewEvent>, seen: &[(TaskId, RunId, u64)], out: &Written) -> Vec<Event> {
    if events.is_empty() && seen.is_empty() {
        return Vec::new();
    }
    let of_task = |task: Option<TaskId>| -> Vec<(RunId, u64)> {
        seen.iter().filter(|(t, _, _)| task.is_none_or(|task| *t == task)).map(|(_, run, lines)| (*run, *lines)).collect()
    };
    let why = match store_with_retries(store, &events, &of_task(None)).await {
        Ok(seqs) => return events.into_iter().zip(seqs).map(|(ev, seq)| ev.stored(seq)).collect(),
        Err(why) => why,
    };
    let mut by_task: Vec<(TaskId, Vec<NewEvent>)> = Vec::new();
    for (task, _, _) in seen {
        if !by_task.iter().any(|(t, _)| t == task) {
            by_task.push((*task, Vec::new()));
        }
    }
    for ev in events {
        match by_task.iter_mut().find(|(t, _)| *t == ev.task_id) {
            Some((_, evs)) => evs.push(ev),
            None => by_task.push((ev.task_id, vec![ev])),
        }
    }
    if by_task.len() == 1 {
        let (task_id, evs) = &by_task[0];
        tracing::error!(task = task_id, "storing {} events failed for good; they are not shown to anyone: {why}", evs.len());
        out.storing_failed(evs, &why);
        return Vec::new();
    }
    let mut stored = Vec::new();
    for (task_id, evs) in by_task {
        match store.append_events(&evs, &of_task(Some(task_id))).await {
            Ok(seqs) => stored.extend(evs.into_iter().zip(seqs).map(|(ev, seq)| ev.stored(seq))),
            Err(e) => {
                tracing::error!(task = task_id, "storing {} events failed for good; they are not shown to anyone: {e}", evs.len());
                out.storing_failed(&evs, &e.to_string());
            }
        }
    }
    stored
}

async fn store_with_retries(store: &dyn Store, events: &[NewEvent], seen: &[(RunId, u64)]) -> Result<Vec<i64>, String> {
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match store.append_events(events, seen).await {
            Ok(stored) => return Ok(stored),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(attempt, "storing {} events failed, retrying: {e}", events.len());
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
