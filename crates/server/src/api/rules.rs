//! Allow rules: `GET /api/rules` lists the saved ones (with the answer each came
//! from) and the `allow:` lists of profile files; `DELETE /api/rules/{id}` revokes a
//! saved one (404 for an unknown id).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use bosun_api::{AllowRule, ErrorBody, RulesQuery};
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(get, path = "/api/rules", params(RulesQuery), responses((status = 200, body = Vec<AllowRule>)))]
pub async fn list(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<RulesQuery>, QueryRejection>,
) -> Result<Json<Vec<AllowRule>>, ApiError> {
    let Query(q) = q?;
    Ok(Json(engine.rules(&q).await?))
}

#[utoipa::path(delete, path = "/api/rules/{id}", params(("id" = i64, Path, description = "A saved rule's id")),
    responses((status = 200, body = AllowRule), (status = 404, body = ErrorBody)))]
pub async fn revoke(State(engine): State<Arc<Engine>>, id: Result<Path<i64>, PathRejection>) -> Result<Json<AllowRule>, ApiError> {
    let Path(id) = id?;
    Ok(Json(engine.revoke_rule(id).await?))
}
