//! `GET /api/costs?by=profile&since=2026-03-01T00:00:00Z`: totals from the cost
//! ledger, one row per task, profile, repo, model, day or month.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use bosun_api::ErrorBody;
use bosun_api::cost::{CostBy, CostsBody};
use bosun_engine::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CostsQuery {
    /// task, profile, repo, model, day or month (default: day).
    pub by: Option<CostBy>,
    /// Only usage reported from this moment on (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/costs", params(CostsQuery), responses((status = 200, body = CostsBody), (status = 400, body = ErrorBody)))]
pub async fn costs(State(engine): State<Arc<Engine>>, q: Result<Query<CostsQuery>, QueryRejection>) -> Result<Json<CostsBody>, ApiError> {
    let Query(q) = q?;
    Ok(Json(engine.costs(q.by.unwrap_or(CostBy::Day), q.since).await?))
}
