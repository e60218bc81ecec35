//! Source webhooks, outside `/api` (a delivery carries its own credential, the
//! service's signature; no token or session is used): `POST /hooks/sources/{id}`.
//! 200 once verified (the items are read again in the background); 401 for a
//! missing or wrong signature (such failures count against the client's address like
//! failed logins); 404 for a source that takes no webhook; 409 for a second Notion
//! verification token once the first is proved.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bosun_engine::{Engine, HookAnswer, HookRefusal};

use crate::api::ApiError;
use crate::api::auth::{Auth, client_ip};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new().route("/hooks/sources/{id}", post(deliver))
}

async fn deliver(State(engine): State<Arc<Engine>>, Path(id): Path<String>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let auth = req.extensions().get::<Arc<Auth>>().cloned();
    if let Some(refusal) = auth.as_ref().and_then(|a| a.too_many(ip)) {
        return refusal;
    }
    let Ok(id) = id.parse::<i64>() else { return ApiError::NotFound("no source takes webhooks here".into()).into_response() };
    let (parts, body) = req.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, super::api::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, "the delivery is larger than 1 MiB".into()).into_response(),
    };
    let headers: HeaderMap = parts.headers;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    match engine.receive_webhook(id, header, &body).await {
        Ok(answer) => {
            let said = match answer {
                HookAnswer::TokenKept => "verification token kept",
                HookAnswer::Accepted => "accepted",
                HookAnswer::Ignored => "nothing to do",
            };
            (StatusCode::OK, axum::Json(serde_json::json!({ "ok": said }))).into_response()
        }
        Err(HookRefusal::Unverified(e)) => {
            if let Some(auth) = &auth {
                auth.limiter.failed(ip);
            }
            tracing::warn!(source = id, "a webhook delivery was refused: {e}");
            ApiError::Rejected(StatusCode::UNAUTHORIZED, e.to_string()).into_response()
        }
        Err(e @ HookRefusal::NotFound) => ApiError::NotFound(e.to_string()).into_response(),
        Err(e @ HookRefusal::TokenTaken) => ApiError::Rejected(StatusCode::CONFLICT, e.to_string()).into_response(),
        Err(HookRefusal::Internal(e)) => ApiError::Internal(e).into_response(),
    }
}
