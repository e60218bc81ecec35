//! `GET /api/devices` (admin): the tokens and browser sessions that have access, with
//! when each was last seen; never a secret or a hash.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{Device, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::auth::Caller;

#[utoipa::path(get, path = "/api/devices", responses((status = 200, body = Vec<Device>), (status = 401, body = ErrorBody)))]
pub async fn list(State(engine): State<Arc<Engine>>, Caller(me): Caller) -> Result<Json<Vec<Device>>, ApiError> {
    Ok(Json(engine.devices(Some(&me)).await?))
}
