//! `GET /api/agents`: the agent profiles bosun finds (the user's, and a repo's with
//! `?repo=`), whether their runtime's CLI is installed (and which version), and the
//! profile files that could not be read. `env:` values are masked.

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use bosun_api::AgentsBody;
use bosun_engine::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgentsQuery {
    /// Also list the profiles of this repo (`<repo>/.bosun/agents`).
    pub repo: Option<String>,
}

#[utoipa::path(get, path = "/api/agents", params(AgentsQuery), responses((status = 200, body = AgentsBody)))]
pub async fn agents(
    State(engine): State<Arc<Engine>>,
    q: Result<Query<AgentsQuery>, QueryRejection>,
) -> Result<Json<AgentsBody>, ApiError> {
    let Query(q) = q?;
    Ok(Json(engine.agents(q.repo.as_deref().map(Path::new)).await))
}
