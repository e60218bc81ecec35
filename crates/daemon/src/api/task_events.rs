//! `GET /api/tasks/{id}/events`: a task's normalized events. As SSE (the default;
//! replay after `after` or `Last-Event-ID`, then live) or, with
//! `Accept: application/json`, one JSON array page.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
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

use super::{ApiError, ErrorBody};
use crate::Daemon;

/// Events read from the store per query while replaying.
const PAGE: i64 = 1000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events with a greater sequence number.
    pub after: Option<i64>,
    /// JSON only: at most this many (default 1000, max 10000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/tasks/{id}/events", params(("id" = i64, Path, description = "Task id"), EventsQuery),
    responses(
        (status = 200, description = "SSE stream of events (`id:` is the seq), or a JSON array with `Accept: application/json`",
            content((Vec<Event> = "application/json"), (String = "text/event-stream"))),
        (status = 404, body = ErrorBody)))]
pub async fn events(
    State(daemon): State<Arc<Daemon>>,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Query(q) = q?;
    daemon.store.get_task(id).await?; // 404 for unknown tasks
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut after = q.after.unwrap_or(0);
    if accept.contains("application/json") && !accept.contains("text/event-stream") {
        let limit = q.limit.unwrap_or(PAGE);
        if !(1..=10_000).contains(&limit) {
            return Err(ApiError::BadRequest("limit must be between 1 and 10000".into()));
        }
        return Ok(Json(daemon.store.events(id, after, limit).await?).into_response());
    }
    if let Some(last) = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok()) {
        after = after.max(last);
    }
    // Subscribe before replaying: nothing stored after this point can be missed.
    let live = daemon.hub.subscribe_events();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(follow(daemon.store.clone(), id, after, live, daemon.closing.subscribe(), tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()).into_response())
}

type Tx = mpsc::Sender<Result<sse::Event, Infallible>>;

/// Replays from the store, then forwards live events; falls back to the store when
/// it lags behind the broadcast. Ends when the client goes away or the daemon stops.
async fn follow(
    store: Arc<dyn Store>,
    task_id: i64,
    mut last: i64,
    mut live: broadcast::Receiver<Arc<Event>>,
    mut closing: watch::Receiver<bool>,
    tx: Tx,
) {
    if !catch_up(&*store, task_id, &mut last, &tx).await {
        return;
    }
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(ev) if ev.task_id == task_id && ev.seq > last => {
                    if !send(&tx, &ev).await {
                        return;
                    }
                    last = ev.seq;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !catch_up(&*store, task_id, &mut last, &tx).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = crate::api::until_closing(&mut closing) => return,
            _ = tx.closed() => return,
        }
    }
}

async fn catch_up(store: &dyn Store, task_id: i64, last: &mut i64, tx: &Tx) -> bool {
    loop {
        let page = match store.events(task_id, *last, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(task_id, "replaying events failed: {e}");
                return false;
            }
        };
        for ev in &page {
            if !send(tx, ev).await {
                return false;
            }
            *last = ev.seq;
        }
        if (page.len() as i64) < PAGE {
            return true;
        }
    }
}

async fn send(tx: &Tx, ev: &Event) -> bool {
    let data = serde_json::to_string(ev).expect("events serialize");
    tx.send(Ok(sse::Event::default().id(ev.seq.to_string()).event(ev.kind.type_name()).data(data))).await.is_ok()
}

