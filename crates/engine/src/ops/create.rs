//! `add`: queue a task. The repo path is resolved to its repository's root and the
//! base branch fixed now (default: the repo's current branch), so a later checkout
//! in the user's repo does not change what the task starts from. Dependencies
//! (`after`) must exist; the task waits until they are done.

use bosun_core::{NewTask, Task};
use bosun_git::Repo;
use bosun_store::TaskRecord;
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "create_task", skip_all)]
    pub async fn create_task(&self, new: NewTask) -> Result<Task, OpError> {
        new.validate().map_err(OpError::Invalid)?;
        let (repo, base) = match &new.repo {
            None => {
                if new.base.is_some() {
                    return Err(OpError::Invalid("a base branch needs a repo".into()));
                }
                (None, None)
            }
            Some(path) => {
                let path = std::path::Path::new(path);
                if !path.is_absolute() {
                    return Err(OpError::Invalid(format!("repo must be an absolute path, not {}", path.display())));
                }
                let invalid = |e: bosun_git::GitError| OpError::Invalid(e.to_string());
                let repo = Repo::open(path).await.map_err(invalid)?;
                let base =
                    match &new.base {
                        Some(base) => {
                            repo.check_branch_name(base).await.map_err(invalid)?;
                            if !repo.branch_exists(base).await.map_err(invalid)? {
                                return Err(OpError::Invalid(format!("base branch `{base}` does not exist in {}", repo.root().display())));
                            }
                            base.clone()
                        }
                        None => repo.current_branch().await.map_err(invalid)?.ok_or_else(|| {
                            OpError::Invalid(format!("{} has a detached HEAD: name a base branch", repo.root().display()))
                        })?,
                    };
                (Some(repo.root().to_string_lossy().into_owned()), Some(base))
            }
        };
        self.check_deps_exist(&new.after).await?;
        let task = self.store.create_task(TaskRecord { new, repo, base }, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }
}
