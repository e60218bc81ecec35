//! `GET /api/events`: SSE of task changes (created, started, finished, merged...).
//! Each message is `event: task` with the whole task as data. A client that falls
//! too far behind gets `event: resync` and should re-read `/api/tasks`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use bosun_engine::Engine;

#[utoipa::path(get, path = "/api/events",
    responses((status = 200, description = "SSE: `event: task` with a Task as data; `event: resync` after lagging",
        content_type = "text/event-stream", body = String)))]
pub async fn events(State(engine): State<Arc<Engine>>) -> Response {
    let mut changes = engine.subscribe_tasks();
    let mut closing = engine.closing();
    let (tx, rx) = mpsc::channel::<Result<sse::Event, Infallible>>(256);
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                got = changes.recv() => match got {
                    Ok(task) => sse::Event::default().event("task").data(serde_json::to_string(&*task).expect("tasks serialize")),
                    Err(broadcast::error::RecvError::Lagged(_)) => sse::Event::default().event("resync").data("{}"),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = bosun_engine::until_closing(&mut closing) => return,
                _ = tx.closed() => return,
            };
            if tx.send(Ok(msg)).await.is_err() {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()).into_response()
}
