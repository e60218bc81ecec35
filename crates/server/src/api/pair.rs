//! `GET /pair?code=...`: the pairing link a phone's camera opens. A good code is
//! exchanged (once) for a session cookie and the browser is sent to the board; a used,
//! expired or unknown one gets a page saying so (HTML: a person reads it, not a
//! program). Never cached, and never sent on as a Referer.

use std::sync::Arc;

use axum::RequestExt;
use axum::extract::{Extension, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bosun_engine::{Engine, OpError};
use serde::Deserialize;

use super::auth::{Auth, client_ip};

#[derive(Deserialize)]
pub struct PairQuery {
    code: Option<String>,
}

pub async fn pair(State(engine): State<Arc<Engine>>, Extension(auth): Extension<Arc<Auth>>, mut req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let code = req.extract_parts::<Query<PairQuery>>().await.ok().and_then(|Query(q)| q.code).filter(|c| !c.is_empty());
    let mut res = match code {
        None => page(StatusCode::BAD_REQUEST, "This pairing link is incomplete: it has no code. Run `bosun pair` for a new link."),
        Some(_) if auth.limiter.blocked(ip).is_some() => {
            page(StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts from this address; wait a minute and try again.")
        }
        Some(code) => match engine.exchange_pairing(&code, user_agent.as_deref()).await {
            Ok(session) => {
                let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
                res.headers_mut().insert(header::SET_COOKIE, auth.session_cookie(&session.secret));
                res
            }
            Err(e) => {
                auth.limiter.failed(ip);
                let status = match e {
                    OpError::Refused(_) => StatusCode::GONE,
                    OpError::NotFound(_) => StatusCode::NOT_FOUND,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let message = match e {
                    OpError::Refused(m) | OpError::NotFound(m) => m,
                    e => {
                        tracing::error!("pairing failed: {e}");
                        "Pairing failed; see the daemon's log.".into()
                    }
                };
                page(status, &message)
            }
        },
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// A page saying why pairing did not happen. `message` is the engine's own text
/// (never the code or anything the client sent), escaped all the same.
fn page(status: StatusCode, message: &str) -> Response {
    let message: String = message
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>bosun: pairing refused</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\
         <body><main class=\"pair-refused\"><h1>Pairing refused</h1><p id=\"pair-message\">{message}</p></main></body></html>"
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    res
}
