//! Bringing a task's checkout up to date with its base by rebasing it in place. Unlike
//! [`Repo::merge`](crate::Repo::merge) this does touch the checkout, so it refuses to start
//! over uncommitted work or another rebase, and on a conflict it stops and leaves the
//! rebase in progress for someone to resolve (or [`Worktree::abort_rebase`]).

use crate::{GitError, Worktree, fallback_identity, git, plain_name};

/// What [`Worktree::rebase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebaseOutcome {
    /// `onto` was already in the branch's history; nothing was run.
    UpToDate,
    /// The branch now sits on `onto`; `head` is its new tip.
    Rebased { head: String },
    /// git stopped on conflicts in `files`; the rebase is left in progress.
    Conflicted { files: Vec<String> },
}

impl Worktree {
    /// Rebase the checked-out branch onto `onto` (no autostash, hooks never run, the
    /// fallback identity of [`Worktree::commit_all`] when none is configured). Refused when
    /// the worktree has uncommitted changes or a rebase is already in progress.
    pub async fn rebase(&self, onto: &str) -> Result<RebaseOutcome, GitError> {
        plain_name(onto)?;
        let path = self.path().to_owned();
        let refuse = |reason: String| GitError::Refused { action: format!("rebase {onto}"), path, reason };
        if self.rebase_in_progress().await? {
            return Err(refuse("a rebase is already in progress; finish or abort it first".into()));
        }
        let dirty = self.dirty_files().await?;
        if !dirty.is_empty() {
            return Err(refuse(format!("uncommitted changes in: {}; commit or stash them first", dirty.join(", "))));
        }
        let spec = format!("{onto}^{{commit}}");
        let target = git(self.path(), ["rev-parse", "--verify", "--end-of-options", &spec]).run().await?.text();
        if git(self.path(), ["merge-base", "--is-ancestor", &target, "HEAD"]).output().await?.yes_no()? {
            return Ok(RebaseOutcome::UpToDate);
        }
        let args = ["rebase", "--quiet", "--no-autostash", "--no-update-refs", "--no-verify", &target];
        let out = git(self.path(), args)
            .config(fallback_identity(self.path()).await?)
            .config(["core.hooksPath=/dev/null".to_owned()])
            .output()
            .await?;
        if out.code == Some(0) {
            return Ok(RebaseOutcome::Rebased { head: self.head().await? });
        }
        if !self.rebase_in_progress().await? {
            return Err(out.error());
        }
        let files = git(self.path(), ["diff", "--name-only", "--diff-filter=U", "-z", "--"]).run().await?.nul_list();
        if files.is_empty() {
            // Stopped for some other reason: put the branch back rather than leave a mystery.
            if let Err(e) = self.abort_rebase().await {
                tracing::warn!(path = %self.path().display(), "could not abort the failed rebase: {e}");
            }
            return Err(out.error());
        }
        Ok(RebaseOutcome::Conflicted { files })
    }

    /// Whether a rebase (of either backend) is stopped in this worktree.
    pub async fn rebase_in_progress(&self) -> Result<bool, GitError> {
        Ok(self.operation_in_progress().await? == Some("rebase"))
    }

    /// Abort the rebase in progress, restoring the branch and checkout to where they were.
    pub async fn abort_rebase(&self) -> Result<(), GitError> {
        git(self.path(), ["rebase", "--abort"]).config(["core.hooksPath=/dev/null".to_owned()]).run().await?;
        Ok(())
    }
}
