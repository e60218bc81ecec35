//! The HTTP API: JSON REST for every CLI verb, SSE streams, the OpenAPI document.
//! One file per verb; each handler parses the request, calls one engine operation
//! and sends its answer. The route list and the OpenAPI paths come from one place
//! (the `routes!` calls below), so a route cannot go undocumented.

mod agents;
mod approvals;
mod archive;
pub mod auth;
mod budgets;
mod costs;
mod device_revoke;
mod devices;
mod error;
mod events;
mod extract;
mod gc;
mod guard;
mod health;
mod limit;
mod login;
mod logout;
mod me;
mod notify_channels;
mod notify_test;
mod openapi;
mod pair;
mod pairings;
mod push;
mod repos;
mod route_explain;
mod rules;
mod source_rm;
mod source_sync;
mod source_verification_token;
mod sources;
mod task_accept;
mod task_after;
mod task_budget;
mod task_create;
mod task_deliverable;
mod task_deliverables;
mod task_diff;
mod task_discard;
mod task_edit;
mod task_events;
mod task_file_diff;
mod task_files;
mod task_get;
mod task_interrupt;
mod task_list;
mod task_loss;
mod task_merge;
mod task_pr;
mod task_rebase;
mod task_reply;
mod task_retry;
mod task_rm;
mod task_say;
mod task_stop;
mod token_create;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use bosun_engine::Engine;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use guard::Guard;

/// Largest request body accepted (a task body is at most 256 KiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Every API route with its OpenAPI description, from one list.
fn api() -> OpenApiRouter<Arc<Engine>> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(task_list::list, task_create::create))
        .routes(routes!(task_get::get))
        .routes(routes!(task_stop::stop))
        .routes(routes!(task_after::after))
        .routes(routes!(task_retry::retry))
        .routes(routes!(task_edit::edit))
        .routes(routes!(task_merge::merge))
        .routes(routes!(task_diff::diff))
        .routes(routes!(task_files::files))
        .routes(routes!(task_file_diff::file_diff))
        .routes(routes!(task_rebase::rebase))
        .routes(routes!(task_rm::rm))
        .routes(routes!(task_discard::discard))
        .routes(routes!(task_loss::loss))
        .routes(routes!(task_pr::pr))
        .routes(routes!(task_say::say))
        .routes(routes!(task_interrupt::interrupt))
        .routes(routes!(task_reply::reply))
        .routes(routes!(approvals::approve))
        .routes(routes!(approvals::deny))
        .routes(routes!(approvals::list))
        .routes(routes!(rules::list))
        .routes(routes!(rules::revoke))
        .routes(routes!(agents::agents))
        .routes(routes!(route_explain::explain))
        .routes(routes!(costs::costs))
        .routes(routes!(budgets::budgets))
        .routes(routes!(task_budget::raise))
        .routes(routes!(gc::gc))
        .routes(routes!(archive::archive))
        .routes(routes!(repos::repos))
        .routes(routes!(task_events::events))
        .routes(routes!(events::events))
        .routes(routes!(notify_channels::list, notify_channels::add))
        .routes(routes!(notify_channels::remove))
        .routes(routes!(notify_test::test))
        .routes(routes!(sources::list, sources::add))
        .routes(routes!(source_rm::remove))
        .routes(routes!(source_sync::sync))
        .routes(routes!(source_verification_token::token))
        .routes(routes!(push::key))
        .routes(routes!(push::subscribe, push::unsubscribe))
        .routes(routes!(login::login))
        .routes(routes!(logout::logout))
        .routes(routes!(me::me))
        .routes(routes!(token_create::create))
        .routes(routes!(devices::list))
        .routes(routes!(device_revoke::revoke))
        .routes(routes!(pairings::create))
        .routes(routes!(task_deliverables::list))
        .routes(routes!(task_deliverable::content))
        .routes(routes!(task_accept::accept))
}

/// The OpenAPI document of every route [`router`] serves.
pub fn openapi_doc() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// Every route, behind the [`Guard`] and then authentication ([`auth`]); over TLS
/// (`https`) every answer tells the browser to keep to HTTPS (HSTS), and the session
/// cookie is `Secure`.
pub fn router(engine: Arc<Engine>, guard: Guard, https: bool) -> Router {
    let auth = Arc::new(auth::Auth::new(engine.clone(), https));
    let (api, mut doc) = api().split_for_parts();
    openapi::document_refusals(&mut doc);
    let doc = Arc::new(doc);
    api.route("/api/openapi.json", axum::routing::get(move || openapi::serve(doc.clone())))
        .route(bosun_core::auth::PAIR_PATH, axum::routing::get(pair::show).post(pair::pair))
        .merge(web::routes())
        .merge(crate::act::routes())
        .merge(crate::hook::routes())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // One span per request (method, path), so what an operation logs says which
        // request it served; operations add `task`. The path without its query: a
        // pairing code travels in one, and secrets stay out of the log (an action
        // link's secret too: see `log_path`).
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
            |req: &axum::extract::Request| tracing::info_span!("request", method = %req.method(), path = log_path(req.uri().path())),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(axum::Extension(auth.clone()))
        .layer(axum::middleware::from_fn_with_state(auth, auth::check))
        .layer(axum::middleware::from_fn_with_state(Arc::new(guard), guard::check))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            https.then(|| axum::http::HeaderValue::from_static("max-age=31536000")),
        ))
        .with_state(engine)
}

/// A request path as the log may show it: an action link's secret (`/act/<secret>`)
/// is a capability, so it is logged as `/act/{secret}`.
pub(crate) fn log_path(path: &str) -> &str {
    if path.starts_with("/act/") { "/act/{secret}" } else { path }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_action_link_secret_is_not_logged() {
        assert_eq!(super::log_path("/act/abcDEF123"), "/act/{secret}");
        assert_eq!(super::log_path("/api/tasks/3"), "/api/tasks/3");
    }
}
