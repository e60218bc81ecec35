//! Remotes: where they point, and moving branches to or from them. A push sends exactly
//! one branch and never forces; credentials are never prompted for.

use crate::{GitError, Repo, plain_name};

impl Repo {
    /// The URL of `remote` (after `insteadOf` rewriting); `None` if there is no such remote.
    pub async fn remote_url(&self, remote: &str) -> Result<Option<String>, GitError> {
        let out = self.git(["remote", "get-url", "--", plain_name(remote)?]).output().await?;
        match out.code {
            Some(0) => Ok(Some(out.text())),
            Some(2) => Ok(None), // "No such remote"
            _ => Err(out.error()),
        }
    }

    /// Push local `branch` to the same-named branch on `remote`, never forcing; hooks never run.
    pub async fn push(&self, remote: &str, branch: &str) -> Result<(), GitError> {
        let refspec = format!("refs/heads/{0}:refs/heads/{0}", plain_name(branch)?);
        let args = ["push", "--no-verify", "--no-follow-tags", "--recurse-submodules=no", plain_name(remote)?];
        self.git(args).arg(refspec).config(["core.hooksPath=/dev/null".to_owned()]).run().await?;
        Ok(())
    }

    /// `git fetch <remote>`, updating its remote-tracking branches.
    pub async fn fetch(&self, remote: &str) -> Result<(), GitError> {
        self.git(["fetch", plain_name(remote)?]).run().await?;
        Ok(())
    }
}
