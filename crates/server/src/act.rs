//! Action links, outside `/api` (they carry their own capability; no session or token
//! is needed or used): `GET /act/{secret}` shows a page naming the task and the exact
//! command, with a confirm button (a form POST: a link preview never approves);
//! `POST /act/{secret}` answers the ask (ntfy's http action, the service worker, the
//! form). A link used before, expired, or for an ask already answered is refused with
//! a page saying so (410 Gone), and changes nothing.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bosun_engine::{ActError, ActView, Engine, OpError};
use bosun_store::notify::LinkVerb;

/// No scripts at all, styles from the board only.
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'";

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
    let (status, text) = match &e {
        ActError::Refused(r) => (StatusCode::GONE, r.to_string()),
        ActError::Op(OpError::NotFound(m)) => (StatusCode::NOT_FOUND, m.clone()),
        ActError::Op(OpError::Refused(m) | OpError::Invalid(m)) => (StatusCode::CONFLICT, m.clone()),
        ActError::Op(other) => {
            tracing::error!("an action link failed: {other}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the daemon's log".to_string())
        }
    };
    page(status, "This link does nothing", &format!("<p>{}.</p><p><a href=\"/approvals\">Open the pending asks</a></p>", escape(&text)))
}

fn verb(v: LinkVerb) -> &'static str {
    match v {
        LinkVerb::Approve => "Approve",
        LinkVerb::Deny => "Deny",
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <meta name=\"robots\" content=\"noindex\"><title>{t}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\
         <body><main class=\"act\"><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Text as HTML (what an agent or a title says is shown, never markup).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_never_markup() {
        assert_eq!(super::escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
