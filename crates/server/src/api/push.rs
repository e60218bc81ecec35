//! Web Push for the board: `GET /api/push/key` (bosun's VAPID public key),
//! `POST /api/push/subscriptions` (this browser subscribes; 400 for keys that do not
//! decode) and `DELETE /api/push/subscriptions` (it unsubscribes; 404 if unknown).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_api::notify::{PushKey, PushSubscribeRequest, PushSubscribed, PushUnsubscribeRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::auth::Caller;
use super::extract::Body;

#[utoipa::path(get, path = "/api/push/key", responses((status = 200, body = PushKey)))]
pub async fn key(State(engine): State<Arc<Engine>>) -> Result<Json<PushKey>, ApiError> {
    Ok(Json(engine.push_key()?))
}

#[utoipa::path(post, path = "/api/push/subscriptions", request_body = PushSubscribeRequest,
    responses((status = 200, body = PushSubscribed), (status = 400, body = ErrorBody)))]
pub async fn subscribe(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    Body(req): Body<PushSubscribeRequest>,
) -> Result<Json<PushSubscribed>, ApiError> {
    Ok(Json(engine.push_subscribe(req, &me).await?))
}

#[utoipa::path(delete, path = "/api/push/subscriptions", request_body = PushUnsubscribeRequest,
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(
    State(engine): State<Arc<Engine>>,
    Caller(me): Caller,
    Body(req): Body<PushUnsubscribeRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    engine.push_unsubscribe(&req.endpoint, &me).await?;
    Ok(Json(serde_json::json!({"ok": true})))
}
