//! `add`: queue a task. The repo path is resolved to its repository's root and the
//! base branch fixed now (default: the repo's current branch), so a later checkout
//! in the user's repo does not change what the task starts from. Dependencies
//! (`after`) must exist; the task waits until they are done.

use bosun_core::{NewTask, Task};
use bosun_git::Repo;
use bosun_store::TaskRecord;
use chrono::Utc;

use bosun_core::schedule::RouteError;

use crate::profiles::{Profiles, RoutingError};
use crate::routing::Rules;
use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "create_task", skip_all)]
    pub async fn create_task(&self, new: NewTask) -> Result<Task, OpError> {
        let record = self.prepare_task(new).await?;
        let task = self.store.create_task(record, Utc::now()).await?;
        self.publish(&task);
        Ok(task)
    }

    /// Everything `add` checks and fixes before a task is stored (also for a task made
    /// of a source's item).
    pub(crate) async fn prepare_task(&self, new: NewTask) -> Result<TaskRecord, OpError> {
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
                self.refuse_data_dir(path)?;
                let repo = Repo::open(path).await.map_err(invalid)?;
                self.refuse_data_dir(repo.root())?;
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
        // Refused at the door, not failed later: the task must have an agent to run it
        // (or, with routing rules, a rule to match or triage to wait in).
        self.check_route(repo.as_deref(), new.agent.as_deref(), &new.tags)?;
        Ok(TaskRecord { new, repo, base })
    }

    /// A repo inside the data dir is a task's workspace, which its agent may have
    /// written (`.bosun/setup`, profiles): a task there would run what an agent wrote,
    /// as the daemon's user. Refused, symlinks resolved.
    fn refuse_data_dir(&self, root: &std::path::Path) -> Result<(), OpError> {
        let real = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if real(root).starts_with(real(&self.config.data_dir)) {
            return Err(OpError::Invalid(format!(
                "{} is inside bosun's data dir (a task's workspace): a task cannot use it as its repo; use the repo the task came from",
                root.display()
            )));
        }
        Ok(())
    }

    /// That a task with this agent (or these tags) in this repo has a profile to run it.
    pub(crate) fn check_route(&self, repo: Option<&str>, agent: Option<&str>, tags: &[String]) -> Result<(), OpError> {
        let profiles = Profiles::load(repo.map(std::path::Path::new), &self.config.user_agents_dir());
        if agent.is_none() && Rules::load(repo.map(std::path::Path::new), &self.config.config_dir, &profiles).exist() {
            return Ok(());
        }
        match profiles.route(agent, tags) {
            Ok(_) => Ok(()),
            Err(RoutingError::Route(RouteError::UnknownAgent { name, .. })) if profiles.did_you_mean(&name).is_some() => {
                let near = profiles.did_you_mean(&name).unwrap_or_default();
                Err(OpError::Invalid(format!("unknown agent `{name}`: did you mean `{near}`? (`bosun agents` lists them)")))
            }
            Err(e) => Err(OpError::Invalid(e.to_string())),
        }
    }
}
