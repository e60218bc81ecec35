//! `POST /api/sources/{id}/sync`: syncs a source now and says what it did (404 for an
//! unknown id; 400 or 502 with the service's reason when the sync failed, which
//! `source ls` also shows).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_api::ErrorBody;
use bosun_api::source::SyncResult;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(post, path = "/api/sources/{id}/sync", params(("id" = i64, Path, description = "A source's id")),
    responses((status = 200, body = SyncResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn sync(State(engine): State<Arc<Engine>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<SyncResult>, ApiError> {
    let Path(id) = id?;
    Ok(Json(engine.sync_source_now(id).await?))
}
