//! `POST /api/route/explain`: where a task like the one described would go, which
//! routing rule matches and why the earlier ones did not. Creates nothing.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::ErrorBody;
use bosun_api::route::RouteExplained;
use bosun_core::NewTask;
use bosun_engine::Engine;

use super::ApiError;
use super::extract::Body;

#[utoipa::path(post, path = "/api/route/explain", request_body = NewTask,
    responses((status = 200, body = RouteExplained), (status = 400, body = ErrorBody)))]
pub async fn explain(State(engine): State<Arc<Engine>>, Body(task): Body<NewTask>) -> Result<Json<RouteExplained>, ApiError> {
    Ok(Json(engine.explain_route(task)?))
}
