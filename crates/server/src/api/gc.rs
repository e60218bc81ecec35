//! `POST /api/gc`: the workspaces of merged, failed, stopped or interrupted tasks
//! that hold nothing unmerged or uncommitted; with `yes`, removes them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::{ErrorBody, GcItem, GcRequest};
use bosun_engine::Engine;

use super::ApiError;
use super::extract::OptBody;

#[utoipa::path(post, path = "/api/gc", request_body(content = Option<GcRequest>),
    responses((status = 200, body = Vec<GcItem>), (status = 400, body = ErrorBody)))]
pub async fn gc(State(engine): State<Arc<Engine>>, OptBody(req): OptBody<GcRequest>) -> Result<Json<Vec<GcItem>>, ApiError> {
    Ok(Json(engine.gc(req.yes).await?))
}
