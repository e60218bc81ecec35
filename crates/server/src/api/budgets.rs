//! `GET /api/budgets`: every budget (configured, and each unfinished task's own) with
//! its limit, what is spent and reserved against it, and what remains.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use bosun_api::cost::BudgetsBody;
use bosun_engine::Engine;

use super::ApiError;

#[utoipa::path(get, path = "/api/budgets", responses((status = 200, body = BudgetsBody)))]
pub async fn budgets(State(engine): State<Arc<Engine>>) -> Result<Json<BudgetsBody>, ApiError> {
    Ok(Json(engine.budgets().await?))
}
