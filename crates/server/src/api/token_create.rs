//! `POST /api/tokens {name, scope}` (admin): a new named API token; its secret is in
//! this answer only. An unknown scope is a 400 suggesting the nearest; a name a live
//! token has is a 409.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, NewTokenBody, NewTokenRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(post, path = "/api/tokens", request_body = NewTokenRequest,
    responses((status = 200, body = NewTokenBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(State(engine): State<Arc<Engine>>, Body(req): Body<NewTokenRequest>) -> Result<Json<NewTokenBody>, ApiError> {
    Ok(Json(engine.create_token(req).await?))
}
