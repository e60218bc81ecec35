//! `POST /api/tasks`: queue a task. The repo path is resolved to its repository's
//! root and the base branch fixed now (default: the repo's current branch), so a
//! later checkout in the user's repo does not change what the task starts from.
//! Dependencies (`after`) must exist; the task waits until they are done.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use bosun_core::{NewTask, Task};
use bosun_git::Repo;
use bosun_store::{StoreError, TaskRecord};
use chrono::Utc;

use super::{ApiError, ErrorBody};
use crate::Daemon;

#[utoipa::path(post, path = "/api/tasks", request_body = NewTask,
    responses((status = 201, body = Task), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(daemon): State<Arc<Daemon>>,
    body: Result<Json<NewTask>, JsonRejection>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let Json(new) = body?;
    new.validate().map_err(ApiError::BadRequest)?;
    let (repo, base) = match &new.repo {
        None => {
            if new.base.is_some() {
                return Err(ApiError::BadRequest("a base branch needs a repo".into()));
            }
            (None, None)
        }
        Some(path) => {
            let path = std::path::Path::new(path);
            if !path.is_absolute() {
                return Err(ApiError::BadRequest(format!("repo must be an absolute path, not {}", path.display())));
            }
            let repo = Repo::open(path).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
            let base = match &new.base {
                Some(base) => {
                    repo.check_branch_name(base).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
                    if !repo.branch_exists(base).await.map_err(|e| ApiError::BadRequest(e.to_string()))? {
                        return Err(ApiError::BadRequest(format!(
                            "base branch `{base}` does not exist in {}",
                            repo.root().display()
                        )));
                    }
                    base.clone()
                }
                None => repo.current_branch().await.map_err(|e| ApiError::BadRequest(e.to_string()))?.ok_or_else(|| {
                    ApiError::BadRequest(format!("{} has a detached HEAD: name a base branch", repo.root().display()))
                })?,
            };
            (Some(repo.root().to_string_lossy().into_owned()), Some(base))
        }
    };
    for dep in &new.after {
        if let Err(StoreError::TaskNotFound(_)) = daemon.store.get_task(*dep).await {
            return Err(ApiError::BadRequest(format!("dependency T-{dep} does not exist")));
        }
    }
    let task = daemon.store.create_task(TaskRecord { new, repo, base }, Utc::now()).await?;
    daemon.publish(&task);
    Ok((StatusCode::CREATED, Json(task)))
}
