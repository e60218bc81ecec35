//! Task sources: `GET /api/sources` lists them with how their last sync went; `POST`
//! adds one (400 for settings the service refuses or a token variable the daemon's
//! environment lacks, 502 when the service cannot be reached). Admin scope: a source
//! makes tasks, which run agents. Tokens are never served: only their variables' names.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_api::source::{NewSourceRequest, Source};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(get, path = "/api/sources", responses((status = 200, body = Vec<Source>)))]
pub async fn list(State(engine): State<Arc<Engine>>) -> Result<Json<Vec<Source>>, ApiError> {
    Ok(Json(engine.list_sources().await?))
}

#[utoipa::path(post, path = "/api/sources", request_body = NewSourceRequest,
    responses((status = 200, body = Source), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn add(State(engine): State<Arc<Engine>>, Body(req): Body<NewSourceRequest>) -> Result<Json<Source>, ApiError> {
    Ok(Json(engine.add_source(req).await?))
}
