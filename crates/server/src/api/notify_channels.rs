//! Notification channels: `GET /api/notify/channels` lists them with their last
//! delivery result; `POST` adds one (400 for a bad URL, an unknown event kind, or a
//! secret variable the daemon's environment lacks); `DELETE /api/notify/channels/{id}`
//! removes one (404 for an unknown id); 409 for a second webpush channel. Secrets are never served: a channel keeps only
//! the names of the variables holding them.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_api::ErrorBody;
use bosun_api::notify::{Channel, NewChannelRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(get, path = "/api/notify/channels", responses((status = 200, body = Vec<Channel>)))]
pub async fn list(State(engine): State<Arc<Engine>>) -> Result<Json<Vec<Channel>>, ApiError> {
    Ok(Json(engine.channels().await?))
}

#[utoipa::path(post, path = "/api/notify/channels", request_body = NewChannelRequest,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add(State(engine): State<Arc<Engine>>, Body(req): Body<NewChannelRequest>) -> Result<Json<Channel>, ApiError> {
    Ok(Json(engine.add_channel(req).await?))
}

#[utoipa::path(delete, path = "/api/notify/channels/{id}", params(("id" = i64, Path, description = "A channel's id")),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
pub async fn remove(State(engine): State<Arc<Engine>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<Channel>, ApiError> {
    let Path(id) = id?;
    Ok(Json(engine.remove_channel(id).await?))
}
