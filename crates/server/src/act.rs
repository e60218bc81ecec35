//! Action links, outside `/api` (they carry their own capability; no session or token
//! is needed or used): `GET /act/{secret}` shows a page naming the task and the exact
//! command, with a confirm button (a form POST: a link preview never approves);
//! `POST /act/{secret}` answers the ask (ntfy's http action, the service worker, the
//! form). A link used before, expired, or for an ask already answered is refused with
//! a page saying so (410 Gone), and changes nothing.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use bosun_engine::{ActError, ActView, Engine};
use bosun_store::notify::LinkVerb;

use crate::api::ApiError;
use crate::page::escape;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    crate::page::page(status, "act", title, body)
}

pub fn routes() -> Router<Arc<Engine>> {
    Router::new().route("/act/{secret}", get(show).post(act))
}

async fn show(State(engine): State<Arc<Engine>>, Path(secret): Path<String>) -> Response {
    match engine.act_view(&secret).await {
        Ok(view) => {
            let verb = verb(view.verb);
            let body = format!(
                "<p>The agent of <a href=\"/tasks/{id}\">T-{id}</a> ({title}) asks to run:</p><pre>{what}</pre>\
                 <form method=\"post\"><button type=\"submit\">{verb}</button></form>",
                id = view.task_id,
                title = escape(&view.title),
                what = escape(&view.what),
            );
            page(StatusCode::OK, &format!("{verb} T-{}?", view.task_id), &body)
        }
        Err(e) => refused(e),
    }
}

async fn act(State(engine): State<Arc<Engine>>, Path(secret): Path<String>) -> Response {
    match engine.act(&secret).await {
        Ok(view) => done(&view),
        Err(e) => refused(e),
    }
}

fn done(view: &ActView) -> Response {
    let what = if view.verb == LinkVerb::Approve { "Approved: the agent continues" } else { "Denied: the agent was told" };
    let body =
        format!("<p>{what}.</p><pre>{}</pre><p><a href=\"/tasks/{}\">Open T-{}</a></p>", escape(&view.what), view.task_id, view.task_id);
    page(StatusCode::OK, what, &body)
}

fn refused(e: ActError) -> Response {
    let (status, text) = match e {
        ActError::Refused(r) => (StatusCode::GONE, r.to_string()),
        // The API's own mapping: 404, 409, 507 for a full disk, 500 (logged, not shown).
        ActError::Op(op) => ApiError::from(op).logged(),
    };
    page(status, "This link does nothing", &format!("<p>{}.</p><p><a href=\"/approvals\">Open the pending asks</a></p>", escape(&text)))
}

fn verb(v: LinkVerb) -> &'static str {
    match v {
        LinkVerb::Approve => "Approve",
        LinkVerb::Deny => "Deny",
    }
}
