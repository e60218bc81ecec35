//! `POST /api/logout`: ends the caller's own browser session (revoked, its cookie
//! removed, its event streams ended). Any scope may.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bosun_api::ErrorBody;
use bosun_engine::Engine;

use super::ApiError;
use super::auth::{Auth, Caller};

#[utoipa::path(post, path = "/api/logout",
    responses((status = 204, description = "Logged out"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(engine): State<Arc<Engine>>,
    Extension(auth): Extension<Arc<Auth>>,
    Caller(me): Caller,
) -> Result<Response, ApiError> {
    engine.logout(&me).await?;
    let _ = auth.revoked.send(me.id);
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, auth.cleared_cookie());
    Ok(res)
}
