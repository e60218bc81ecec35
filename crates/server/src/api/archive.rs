//! `POST /api/archive`: hide done or discarded tasks (by id, or `all`) from lists and
//! the board; refuses, naming them, tasks that are not finished.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ArchiveBody, ArchiveRequest, ErrorBody};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(post, path = "/api/archive", request_body(content = ArchiveRequest),
    responses((status = 200, body = ArchiveBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn archive(State(engine): State<Arc<Engine>>, Body(req): Body<ArchiveRequest>) -> Result<Json<ArchiveBody>, ApiError> {
    Ok(Json(engine.archive(req).await?))
}
