//! `POST /api/login {token}`: a pasted token exchanged for a browser session of the
//! token's scope and name (the session cookie). A wrong token counts as a failed
//! attempt, as in the middleware.

use std::sync::Arc;

use axum::extract::{Extension, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestExt};
use bosun_api::{ErrorBody, LoginRequest};
use bosun_core::auth::Principal;
use bosun_engine::Engine;

use super::ApiError;
use super::auth::{Auth, client_ip, unauthorized};
use super::extract::Body;

#[utoipa::path(post, path = "/api/login", request_body = LoginRequest,
    responses((status = 200, body = Principal, description = "Logged in: the session cookie is set"),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(State(engine): State<Arc<Engine>>, Extension(auth): Extension<Arc<Auth>>, req: Request) -> Result<Response, ApiError> {
    let ip = client_ip(req.extensions());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let Body(body): Body<LoginRequest> = req.extract().await?;
    let Some(session) = engine.login(&body.token, user_agent.as_deref()).await? else {
        // Failures are limited, not good tokens (see `auth::check`).
        if let Some(refusal) = auth.too_many(ip) {
            return Ok(refusal);
        }
        auth.limiter.failed(ip);
        return Err(unauthorized("that is not a valid token of this daemon (`bosun token create` makes one)"));
    };
    let mut res = Json(session.principal).into_response();
    res.headers_mut().insert(header::SET_COOKIE, auth.session_cookie(&session.secret));
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}
