//! `DELETE /api/sources/{id}`: stops watching a source (404 for an unknown id). Its
//! tasks stay, and stay linked to their items.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_api::ErrorBody;
use bosun_api::source::Source;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(delete, path = "/api/sources/{id}", params(("id" = i64, Path, description = "A source's id")),
    responses((status = 200, body = Source), (status = 404, body = ErrorBody)))]
pub async fn remove(State(engine): State<Arc<Engine>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<Source>, ApiError> {
    let Path(id) = id?;
    Ok(Json(engine.remove_source(id).await?))
}
