//! `GET /api/tasks`: tasks, oldest first, filtered by status, repo, agent or tag;
//! archived tasks only when asked for (`archived=true`: only them).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bosun_core::{Task, TaskStatus};
use bosun_store::TaskFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use bosun_api::ErrorBody;

use super::ApiError;
use bosun_engine::Engine;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `running,review`.
    pub status: Option<String>,
    pub repo: Option<String>,
    pub agent: Option<String>,
    pub tag: Option<String>,
    /// Only tasks with a greater id (paging).
    pub after: Option<i64>,
    pub limit: Option<i64>,
    /// Only archived tasks (without it, they are left out).
    #[serde(default)]
    pub archived: bool,
}

#[utoipa::path(get, path = "/api/tasks", params(ListQuery),
    responses((status = 200, body = Vec<Task>), (status = 400, body = ErrorBody)))]
pub async fn list(State(engine): State<Arc<Engine>>, q: Result<Query<ListQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let mut statuses = Vec::new();
    for s in q.status.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        statuses.push(TaskStatus::parse(s).ok_or_else(|| {
            let known: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::BadRequest(format!("unknown status `{s}` (known: {})", known.join(", ")))
        })?);
    }
    if q.limit.is_some_and(|l| l < 0) {
        return Err(ApiError::BadRequest("limit must not be negative".into()));
    }
    let archived = Some(q.archived);
    let filter = TaskFilter { statuses, repo: q.repo, agent: q.agent, tag: q.tag, after_id: q.after, limit: q.limit, archived };
    let json = engine.store.list_tasks_json(&filter).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
