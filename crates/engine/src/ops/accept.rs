//! `accept`: a reviewed scratch task's work is taken as it is (a repo task's is
//! merged instead): its deliverables (each path's latest delivery) copied into a
//! directory on this machine when one is given — refusing, with nothing copied, to
//! overwrite a file there unless forced — then the
//! task moves to done (`TaskEvent::Accepted`, compare-and-set on `review`).

use std::path::{Path, PathBuf};

use bosun_api::{AcceptBody, AcceptRequest};
use bosun_core::task::TaskId;
use bosun_core::{EventKind, TaskEvent, TaskStatus};
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "accept", skip_all, fields(task = id))]
    pub async fn accept(&self, id: TaskId, req: AcceptRequest) -> Result<AcceptBody, OpError> {
        let task = self.store.get_task(id).await?;
        task.status.apply(TaskEvent::Accepted)?; // refused now, before anything is copied
        // A repo task's work is its branch: done only by landing it (a done task's
        // branch counts as merged, and cleanup would delete it).
        if task.repo.is_some() {
            return Err(OpError::Refused(format!(
                "T-{id} works in a repo: `bosun merge {id}` lands its branch (its deliverables stay; `bosun open {id} PATH`)"
            )));
        }
        let to = match req.to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(dir) if Path::new(dir).is_absolute() => Some(PathBuf::from(dir)),
            Some(dir) => return Err(OpError::Invalid(format!("the destination {dir:?} must be an absolute directory"))),
        };
        let mut copied = Vec::new();
        if let Some(to) = &to {
            let latest = self.deliverables(id).await?.latest;
            if latest.is_empty() {
                return Err(OpError::Refused(format!("T-{id} has no deliverables to copy; accept it without a destination")));
            }
            if to.exists() && !to.is_dir() {
                return Err(OpError::Invalid(format!("{} is not a directory", to.display())));
            }
            let taken: Vec<&str> =
                latest.iter().filter(|d| std::fs::symlink_metadata(to.join(&d.path)).is_ok()).map(|d| d.path.as_str()).collect();
            if !taken.is_empty() && !req.force {
                return Err(OpError::Refused(format!(
                    "{} already holds {}: nothing was copied; pass --force to overwrite",
                    to.display(),
                    taken.join(", ")
                )));
            }
            // Everything is read first: a file that cannot be had copies nothing.
            let mut contents = Vec::with_capacity(latest.len());
            for d in &latest {
                contents.push((d.path.clone(), self.read_delivered(d, task.worktree.as_deref()).await?));
            }
            for (path, bytes) in contents {
                let dest = to.join(&path);
                let write = async {
                    if let Some(parent) = dest.parent() {
                        tokio::fs::create_dir_all(parent).await?;
                    }
                    // Never through a symlink planted where the file goes.
                    if tokio::fs::symlink_metadata(&dest).await.is_ok_and(|m| m.file_type().is_symlink()) {
                        tokio::fs::remove_file(&dest).await?;
                    }
                    tokio::fs::write(&dest, bytes).await
                };
                write.await.map_err(|e| OpError::Refused(format!("cannot write {}: {e}", dest.display())))?;
                copied.push(path);
            }
        }
        let reason = match &to {
            Some(to) => format!("accepted; {} copied to {}", bosun_core::count(copied.len(), "deliverable"), to.display()),
            None => "accepted".to_string(),
        };
        let task = self.store.transition_task(id, TaskStatus::Review, TaskEvent::Accepted, Some(&reason), Utc::now()).await?;
        self.hub.emit(id, 0, EventKind::status(TaskStatus::Done.as_str(), reason)).await;
        self.hub.flush().await;
        self.publish(&task);
        Ok(AcceptBody { task, to: to.map(|p| p.display().to_string()), copied })
    }
}
