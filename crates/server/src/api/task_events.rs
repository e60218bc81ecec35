//! `GET /api/tasks/{id}/events`: a task's normalized events. As SSE (the default;
//! replay after `after` or `Last-Event-ID`, then live) or, with
//! `Accept: application/json`, one JSON array page.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bosun_core::Event;
use bosun_store::Store;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;

use bosun_api::ErrorBody;

use super::ApiError;
use super::extract::TaskId;
use bosun_engine::Engine;

/// Events read from the store per query while replaying.
const PAGE: i64 = 1000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events with a greater sequence number.
    pub after: Option<i64>,
    /// JSON only: at most this many (default 1000, max 10000).
    pub limit: Option<i64>,
    /// SSE only: `settled` ends the stream once the task has settled (review, failed,
    /// stopped, ...): right after the replay if it already has, else after the status
    /// event that settles it.
    pub until: Option<String>,
}

#[utoipa::path(get, path = "/api/tasks/{id}/events", params(("id" = i64, Path, description = "Task id"), EventsQuery),
    responses(
        (status = 200, description = "SSE stream of events (`id:` is the seq), or a JSON array with `Accept: application/json`",
            content((Vec<Event> = "application/json"), (String = "text/event-stream"))),
        (status = 404, body = ErrorBody)))]
pub async fn events(
    State(engine): State<Arc<Engine>>,
    TaskId(id): TaskId,
    q: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    engine.store.get_task(id).await?; // 404 for unknown tasks
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut after = q.after.unwrap_or(0);
    if accept.contains("application/json") && !accept.contains("text/event-stream") {
        let limit = q.limit.unwrap_or(PAGE);
        if !(1..=10_000).contains(&limit) {
            return Err(ApiError::BadRequest("limit must be between 1 and 10000".into()));
        }
        return Ok(Json(engine.store.events(id, after, limit).await?).into_response());
    }
    let until_settled = match q.until.as_deref() {
        None => false,
        Some("settled") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("unknown `until={other}` (known: settled)"))),
    };
    if let Some(last) = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok()) {
        after = after.max(last);
    }
    // Subscribe before replaying: nothing stored after this point can be missed.
    let live = engine.subscribe_events();
    let (tx, rx) = mpsc::channel(256);
    let changes = engine.subscribe_tasks();
    let follower = Follower { store: engine.store.clone(), task_id: id, last: after, until_settled, tx };
    tokio::spawn(follower.run(live, changes, engine.closing()));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()).into_response())
}

type Tx = mpsc::Sender<Result<sse::Event, Infallible>>;

struct Follower {
    store: Arc<dyn Store>,
    task_id: i64,
    /// The last seq sent.
    last: i64,
    until_settled: bool,
    tx: Tx,
}

impl Follower {
    /// Replays from the store, then forwards live events; falls back to the store
    /// when it lags behind the broadcast. Ends when the client goes away, the daemon
    /// stops, or (`until=settled`) the task has settled: bosun stores a run's last
    /// event before the task's new status, so a final replay then sends everything.
    async fn run(
        mut self,
        mut live: broadcast::Receiver<Arc<Event>>,
        mut changes: broadcast::Receiver<Arc<bosun_core::Task>>,
        mut closing: watch::Receiver<bool>,
    ) {
        if !self.catch_up().await || self.settled().await {
            return;
        }
        loop {
            tokio::select! {
                got = live.recv() => match got {
                    Ok(ev) if ev.task_id == self.task_id && ev.seq > self.last => {
                        if !send(&self.tx, &ev).await {
                            return;
                        }
                        self.last = ev.seq;
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !self.catch_up().await {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                change = changes.recv(), if self.until_settled => {
                    let settled = match change {
                        Ok(task) => task.id == self.task_id && task.status.is_settled(),
                        Err(broadcast::error::RecvError::Lagged(_)) => self.settled().await,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if settled {
                        self.catch_up().await;
                        return;
                    }
                }
                _ = bosun_engine::until_closing(&mut closing) => return,
                _ = self.tx.closed() => return,
            }
        }
    }

    /// Sends everything stored after `last`. False if the client is gone.
    async fn catch_up(&mut self) -> bool {
        loop {
            let page = match self.store.events(self.task_id, self.last, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(task = self.task_id, "replaying events failed: {e}");
                    return false;
                }
            };
            for ev in &page {
                if !send(&self.tx, ev).await {
                    return false;
                }
                self.last = ev.seq;
            }
            if (page.len() as i64) < PAGE {
                return true;
            }
        }
    }

    /// Whether the stream should end because the task settled. Bosun writes a task's
    /// final status event after storing its new status, so the store is the truth.
    async fn settled(&self) -> bool {
        self.until_settled && self.store.get_task(self.task_id).await.is_ok_and(|t| t.status.is_settled())
    }
}

async fn send(tx: &Tx, ev: &Event) -> bool {
    let data = serde_json::to_string(ev).expect("events serialize");
    tx.send(Ok(sse::Event::default().id(ev.seq.to_string()).event(ev.kind.type_name()).data(data))).await.is_ok()
}
