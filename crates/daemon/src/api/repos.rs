//! `GET /api/repos`: the repositories bosun has tasks for, with counts by status.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiError;
use crate::Daemon;

#[derive(Debug, Serialize, ToSchema)]
pub struct RepoSummary {
    pub repo: String,
    pub tasks: i64,
    /// Status name -> number of tasks.
    pub by_status: BTreeMap<String, i64>,
}

#[utoipa::path(get, path = "/api/repos", responses((status = 200, body = Vec<RepoSummary>)))]
pub async fn repos(State(daemon): State<Arc<Daemon>>) -> Result<Json<Vec<RepoSummary>>, ApiError> {
    let mut out: Vec<RepoSummary> = Vec::new();
    for (repo, status, n) in daemon.store.repo_counts().await? {
        if out.last().is_none_or(|r| r.repo != repo) {
            out.push(RepoSummary { repo, tasks: 0, by_status: BTreeMap::new() });
        }
        let summary = out.last_mut().expect("just pushed");
        summary.tasks += n;
        summary.by_status.insert(status.as_str().to_string(), n);
    }
    Ok(Json(out))
}
