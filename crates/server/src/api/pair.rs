//! `/pair?code=...`: the pairing link a phone's camera opens. `GET` shows a "Log in"
//! button (a link preview that fetches the URL uses nothing up); its `POST` exchanges
//! a good code (once) for a session cookie and sends the browser to the board; a used,
//! expired or unknown one gets a page saying so (HTML: a person reads it, not a
//! program). Never cached, and never sent on as a Referer.

use std::sync::Arc;

use axum::RequestExt;
use axum::extract::{Extension, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bosun_engine::{Engine, OpError};
use serde::Deserialize;

use super::auth::{Auth, client_ip};
use crate::page::{escape, page};

#[derive(Deserialize)]
pub struct PairQuery {
    code: Option<String>,
}

/// The link itself: a page with one button, so that a link preview (a chat app, a
/// mail scanner fetching the URL) never uses the code up; the button posts it.
pub async fn show(mut req: Request) -> Response {
    let code = req.extract_parts::<Query<PairQuery>>().await.ok().and_then(|Query(q)| q.code).filter(|c| !c.is_empty());
    match code {
        None => refused(StatusCode::BAD_REQUEST, "This pairing link is incomplete: it has no code. Run `bosun pair` for a new link."),
        Some(code) => page(
            StatusCode::OK,
            "pair",
            "Log this browser in to bosun?",
            &format!(
                "<p>This link (from <code>bosun pair</code>) lets this browser use bosun, once; it is valid 5 minutes.</p>\
                 <form method=\"post\" action=\"{path}?code={code}\"><button type=\"submit\" class=\"button primary\">Log in</button></form>",
                path = bosun_core::auth::PAIR_PATH,
                code = escape(&code)
            ),
        ),
    }
}

/// The button: a good code is exchanged (once) for a session cookie and the browser
/// is sent to the board; a used, expired or unknown one gets a page saying so.
pub async fn pair(State(engine): State<Arc<Engine>>, Extension(auth): Extension<Arc<Auth>>, mut req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let code = req.extract_parts::<Query<PairQuery>>().await.ok().and_then(|Query(q)| q.code).filter(|c| !c.is_empty());
    match code {
        None => refused(StatusCode::BAD_REQUEST, "This pairing link is incomplete: it has no code. Run `bosun pair` for a new link."),
        Some(_) if auth.limiter.blocked(ip).is_some() => {
            refused(StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts from this address; wait a minute and try again.")
        }
        Some(code) => match engine.exchange_pairing(&code, user_agent.as_deref()).await {
            Ok(session) => {
                let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
                let headers = res.headers_mut();
                headers.insert(header::SET_COOKIE, auth.session_cookie(&session.secret));
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                res
            }
            Err(e) => {
                auth.limiter.failed(ip);
                let (status, message) = match e {
                    OpError::Refused(m) => (StatusCode::GONE, m),
                    // 404 for an unknown code, 507 for a full disk, 500 (logged).
                    e => super::ApiError::from(e).logged(),
                };
                refused(status, &message)
            }
        },
    }
}

/// A page saying why pairing did not happen. `message` is the engine's own text
/// (never the code or anything the client sent), escaped all the same.
fn refused(status: StatusCode, message: &str) -> Response {
    page(status, "pair-refused", "Pairing refused", &format!("<p id=\"pair-message\">{}</p>", escape(message)))
}
