//! `deliverables` and `deliverable`: the files a task's runs handed over, and one's
//! content as delivered (the copy bosun kept, else the workspace's file, resolved
//! inside the workspace and checked against the hash recorded).

use std::path::Path;

use bosun_api::DeliverablesBody;
use bosun_core::deliverable::{self, Deliverable};
use bosun_core::task::{RunId, TaskId};

use crate::deliverables::{KEEP_MAX, kept_dir, resolve};
use crate::{Engine, OpError};

/// Largest deliverable sent from a workspace (the kept copies are smaller).
const MAX_SEND: u64 = 64 * 1024 * 1024;

/// One deliverable with its content.
pub struct DeliverableContent {
    pub deliverable: Deliverable,
    pub bytes: Vec<u8>,
}

impl Engine {
    #[tracing::instrument(name = "deliverables", skip_all, fields(task = id))]
    pub async fn deliverables(&self, id: TaskId) -> Result<DeliverablesBody, OpError> {
        self.store.get_task(id).await?;
        let all = self.store.deliverables().deliverables(id).await?;
        let latest = deliverable::latest(&all).into_iter().cloned().collect();
        Ok(DeliverablesBody { latest, all })
    }

    /// The latest delivery of `path` (or `run`'s) with its content.
    #[tracing::instrument(name = "deliverable", skip_all, fields(task = id))]
    pub async fn deliverable(&self, id: TaskId, path: &str, run: Option<RunId>) -> Result<DeliverableContent, OpError> {
        let task = self.store.get_task(id).await?;
        let path = deliverable::check_path(path).map_err(|e| OpError::Invalid(e.to_string()))?;
        let all = self.store.deliverables().deliverables(id).await?;
        let found = all.into_iter().rev().find(|d| d.path == path && run.is_none_or(|r| d.run_id == r));
        let Some(found) = found else {
            return Err(OpError::NotFound(match run {
                Some(run) => format!("run {run} of T-{id} delivered no {path:?} (see `bosun show {id}`)"),
                None => format!("T-{id} has no deliverable {path:?} (see `bosun show {id}`)"),
            }));
        };
        let bytes = self.read_delivered(&found, task.worktree.as_deref()).await?;
        Ok(DeliverableContent { deliverable: found, bytes })
    }

    /// A deliverable's bytes as delivered.
    pub(crate) async fn read_delivered(&self, d: &Deliverable, workspace: Option<&str>) -> Result<Vec<u8>, OpError> {
        let kept = kept_dir(self, d.task_id, d.run_id).join(&d.path);
        if d.size <= KEEP_MAX
            && let Ok(bytes) = tokio::fs::read(&kept).await
        {
            return Ok(bytes);
        }
        let gone = || OpError::Refused(format!("{} is no longer in T-{}'s workspace", d.path, d.task_id));
        let Some(root) = workspace.map(Path::new).filter(|p| p.exists()) else { return Err(gone()) };
        let file = resolve(root, &d.path).map_err(|_| gone())?;
        let size = tokio::fs::metadata(&file).await.map_err(|_| gone())?.len();
        if size > MAX_SEND {
            return Err(OpError::Refused(format!("{} is too large to send ({size} bytes); it is at {}", d.path, file.display())));
        }
        let bytes = tokio::fs::read(&file).await.map_err(|_| gone())?;
        if let Some(sha) = &d.sha256
            && sha256_hex(&bytes) != *sha
        {
            return Err(OpError::Refused(format!(
                "{} changed in T-{}'s workspace since run {} delivered it; see it there: {}",
                d.path,
                d.task_id,
                d.run_id,
                file.display()
            )));
        }
        Ok(bytes)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
