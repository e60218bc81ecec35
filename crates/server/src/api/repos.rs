//! `GET /api/repos`: the repositories bosun has tasks for, with counts by status.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::RepoSummary;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(get, path = "/api/repos", responses((status = 200, body = Vec<RepoSummary>)))]
pub async fn repos(State(engine): State<Arc<Engine>>) -> Result<Json<Vec<RepoSummary>>, ApiError> {
    Ok(Json(engine.repos().await?))
}
