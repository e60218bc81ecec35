//! The event log writer and the live broadcasts.
//!
//! All events pass through one writer task. Being the only writer, it can hand out
//! each task's sequence numbers without locks or races; it stores events in batches
//! (one transaction per batch is what makes high ingest rates possible), and
//! broadcasts an event only after it is stored, so what a live subscriber sees is
//! always also in the log. The channel into the writer is bounded: a flood of agent
//! output slows the agents down (their pipes fill up) instead of growing memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bosun_core::task::{RunId, TaskId};
use bosun_core::{Event, EventKind, Task};
use bosun_store::Store;
use chrono::Utc;
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

enum WriterMsg {
    Event { task_id: TaskId, run_id: RunId, kind: EventKind },
    /// Answered once everything sent before it is stored.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Hub {
    tx: mpsc::Sender<WriterMsg>,
    live: broadcast::Sender<Arc<Event>>,
    tasks: broadcast::Sender<Arc<Task>>,
}

impl Hub {
    pub fn start(store: Arc<dyn Store>) -> (Hub, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (tasks, _) = broadcast::channel(1024);
        let writer = tokio::spawn(write_loop(store, rx, live.clone()));
        (Hub { tx, live, tasks }, writer)
    }

    /// Queues an event for the log. Waits when the writer is behind.
    pub async fn emit(&self, task_id: TaskId, run_id: RunId, kind: EventKind) {
        if self.tx.send(WriterMsg::Event { task_id, run_id, kind }).await.is_err() {
            tracing::error!(task_id, run_id, "event writer is gone; event dropped");
        }
    }

    /// Returns once every event emitted before the call is stored.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(WriterMsg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    pub fn subscribe_events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.live.subscribe()
    }

    pub fn subscribe_tasks(&self) -> broadcast::Receiver<Arc<Task>> {
        self.tasks.subscribe()
    }

    pub fn task_changed(&self, task: &Task) {
        let _ = self.tasks.send(Arc::new(task.clone()));
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<WriterMsg>, live: broadcast::Sender<Arc<Event>>) {
    let mut next_seq: HashMap<TaskId, i64> = HashMap::new();
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
        let now = Utc::now();
        for msg in msgs.drain(..) {
            match msg {
                WriterMsg::Event { task_id, run_id, kind } => {
                    let seq = match next_seq.get_mut(&task_id) {
                        Some(seq) => seq,
                        None => {
                            let last = store.last_seq(task_id).await.unwrap_or_else(|e| {
                                tracing::error!(task_id, "cannot read the last event seq: {e}");
                                0
                            });
                            next_seq.entry(task_id).or_insert(last)
                        }
                    };
                    *seq += 1;
                    events.push(Event { task_id, run_id, seq: *seq, ts: now, kind });
                }
                WriterMsg::Flush(ack) => acks.push(ack),
            }
        }
        persist(&*store, &events).await;
        for ev in events {
            let _ = live.send(Arc::new(ev));
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// Stores a batch, retrying a few times (a busy database, a full disk being freed).
async fn persist(store: &dyn Store, events: &[Event]) {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=5 {
        match store.append_events(events).await {
            Ok(()) => return,
            Err(e) if attempt < 5 => {
                tracing::warn!(attempt, "storing {} events failed, retrying: {e}", events.len());
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => tracing::error!("storing {} events failed for good; they are lost: {e}", events.len()),
        }
    }
}
