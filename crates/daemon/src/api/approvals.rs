//! Permission asks: `GET /api/approvals` lists every pending one across tasks;
//! `POST /api/tasks/{id}/approve` and `/deny` answer one (the task's oldest, or the
//! one named), and `always` adds the tool pattern to the profile's allow-list.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bosun_core::policy;
use bosun_store::Approval;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody};
use crate::Daemon;
use crate::supervisor::{self, Control};

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingApproval {
    #[serde(flatten)]
    pub approval: Approval,
    pub title: String,
    pub agent: Option<String>,
}

#[utoipa::path(get, path = "/api/approvals", responses((status = 200, body = Vec<PendingApproval>)))]
pub async fn list(State(daemon): State<Arc<Daemon>>) -> Result<Json<Vec<PendingApproval>>, ApiError> {
    let mut out = Vec::new();
    for approval in daemon.store.approvals(None, true).await? {
        let task = daemon.store.get_task(approval.task_id).await?;
        out.push(PendingApproval { approval, title: task.title, agent: task.agent });
    }
    Ok(Json(out))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// Which approval (default: the task's oldest pending one).
    pub id: Option<i64>,
    /// Approve: also allow this tool pattern from now on, for the profile.
    #[serde(default)]
    pub always: bool,
    /// Deny: the reason, passed to the agent.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/tasks/{id}/approve", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<AnswerRequest>),
    responses((status = 200, body = Approval), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>, body: Bytes) -> Result<Json<Approval>, ApiError> {
    answer(&daemon, id?.0, super::optional_json(&body)?, true).await
}

#[utoipa::path(post, path = "/api/tasks/{id}/deny", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<AnswerRequest>),
    responses((status = 200, body = Approval), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny(State(daemon): State<Arc<Daemon>>, id: Result<Path<i64>, PathRejection>, body: Bytes) -> Result<Json<Approval>, ApiError> {
    answer(&daemon, id?.0, super::optional_json(&body)?, false).await
}

async fn answer(daemon: &Daemon, task_id: i64, req: AnswerRequest, allow: bool) -> Result<Json<Approval>, ApiError> {
    let task = daemon.store.get_task(task_id).await?;
    let pending = daemon.store.approvals(Some(task_id), true).await?;
    let approval = match req.id {
        Some(aid) => pending.into_iter().find(|a| a.id == aid).ok_or_else(|| ApiError::NotFound(format!("no pending approval {aid} on T-{task_id}")))?,
        None => pending.into_iter().next().ok_or_else(|| ApiError::Conflict(format!("T-{task_id} has no pending approval")))?,
    };
    let message = if allow { None } else { Some(req.reason.clone().unwrap_or_else(|| "denied by the user".into())) };
    let answered = daemon.store.answer_approval(approval.id, allow, "user", message.as_deref(), Utc::now()).await?;
    if allow && req.always {
        if let Some(agent) = &task.agent {
            let ask = policy::Ask { tool: &approval.tool, kind: approval.kind, command: approval.command.as_deref(), path: approval.path.as_deref() };
            daemon.store.add_profile_allow(agent, &policy::pattern_for(&ask)).await?;
        }
    }
    if !supervisor::send(daemon, task_id, Control::Answer { approval, allow, message }) {
        return Err(ApiError::Conflict(format!("T-{task_id}'s run has ended; the answer was recorded but not delivered")));
    }
    Ok(Json(answered))
}
