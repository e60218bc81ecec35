//! The HTTP API: JSON REST for every CLI verb, SSE streams, the OpenAPI document.
//! One file per verb; this file wires them into a router and holds what they
//! share: the error type and the JSON error body.

mod agents;
mod approvals;
mod error;
mod events;
mod gc;
mod guard;
mod health;
mod openapi;
mod repos;
mod task_after;
mod task_create;
mod task_diff;
mod task_events;
mod task_get;
mod task_interrupt;
mod task_list;
mod task_merge;
mod task_pr;
mod task_rebase;
mod task_reply;
mod task_retry;
mod task_rm;
mod task_say;
mod task_stop;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::Daemon;

pub use error::{ApiError, ErrorBody};
pub use guard::Guard;
pub use task_diff::DiffBody;
pub use task_merge::{MergeBody, MergeRequest};
pub(crate) use agents::detect;
pub(crate) use task_pr::refresh as refresh_pr;
pub use task_retry::RetryRequest;

/// Largest request body accepted (a task body is at most 256 KiB).
const MAX_BODY: usize = 1024 * 1024;

/// A JSON body that may be left out entirely (an empty body means all defaults).
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Rejected(axum::http::StatusCode::UNPROCESSABLE_ENTITY, format!("invalid JSON body: {e}")))
}

/// Resolves once the daemon starts shutting down (the guard is dropped here, which
/// keeps the caller's future `Send`).
pub(crate) async fn until_closing(closing: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await.map(|_| ());
}

/// Every route, behind the [`Guard`].
pub fn router(daemon: Arc<Daemon>, guard: Guard) -> Router {
    Router::new()
        .route("/api/health", get(health::health))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/tasks", get(task_list::list).post(task_create::create))
        .route("/api/tasks/{id}", get(task_get::get))
        .route("/api/tasks/{id}/stop", post(task_stop::stop))
        .route("/api/tasks/{id}/after", post(task_after::after))
        .route("/api/tasks/{id}/retry", post(task_retry::retry))
        .route("/api/tasks/{id}/merge", post(task_merge::merge))
        .route("/api/tasks/{id}/diff", get(task_diff::diff))
        .route("/api/tasks/{id}/rebase", post(task_rebase::rebase))
        .route("/api/tasks/{id}/rm", post(task_rm::rm))
        .route("/api/tasks/{id}/pr", post(task_pr::pr))
        .route("/api/tasks/{id}/say", post(task_say::say))
        .route("/api/tasks/{id}/interrupt", post(task_interrupt::interrupt))
        .route("/api/tasks/{id}/reply", post(task_reply::reply))
        .route("/api/tasks/{id}/approve", post(approvals::approve))
        .route("/api/tasks/{id}/deny", post(approvals::deny))
        .route("/api/approvals", get(approvals::list))
        .route("/api/agents", get(agents::agents))
        .route("/api/gc", post(gc::gc))
        .route("/api/repos", get(repos::repos))
        .route("/api/tasks/{id}/events", get(task_events::events))
        .route("/api/events", get(events::events))
        .merge(web::routes())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(Arc::new(guard), guard::check))
        .with_state(daemon)
}
