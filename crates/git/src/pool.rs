//! What the warm worktree pool needs of git: a worktree checked out detached at a
//! commit, moved forward to a new one, and handed to a task — its branch made at
//! the commit it holds and HEAD put on it, in one `update-ref` transaction that
//! first checks the base still points where the worktree is (so a stale worktree
//! is never handed out) — and moved into the task's place.

use std::path::{Path, PathBuf};

use crate::{GitError, Repo, Worktree, git, plain_name};

/// Why a pooled worktree could not become a task's.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    /// The base no longer points at the worktree's commit: nothing was changed.
    #[error("the base branch moved")]
    Stale,
    #[error(transparent)]
    Git(#[from] GitError),
}

impl Repo {
    /// Checks out `commit` at `path`, detached (no branch is made).
    pub async fn worktree_add_detached(&self, path: &Path, commit: &str) -> Result<(), GitError> {
        self.git(["worktree", "add", "--detach", "--"]).arg(path).arg(plain_name(commit)?).run().await?;
        Ok(())
    }

    /// Moves the worktree at `from` to `to` (git keeps its registration pointing there).
    pub async fn worktree_move(&self, from: &Path, to: &Path) -> Result<(), GitError> {
        self.git(["worktree", "move", "--"]).arg(from).arg(to).run().await?;
        Ok(())
    }

    /// Moves the worktree at `from` to `to` without a git process where it can: a
    /// rename, then its registration (`$GIT_DIR/worktrees/<id>/gitdir`, which holds the
    /// absolute path of the worktree's `.git` file: gitrepository-layout(5)) pointed at
    /// the new place, replaced atomically. Where git keeps relative paths, or the
    /// registration does not point back at `from`, `git worktree move` does it.
    /// Cut off between the two, [`Repo::worktree_repair`] of `to` finishes it.
    pub async fn worktree_relocate(&self, from: &Path, to: &Path) -> Result<(), GitError> {
        let Some(admin) = registration(from) else { return self.worktree_move(from, to).await };
        let gitdir = admin.join("gitdir");
        let points_back = std::fs::read_to_string(&gitdir).is_ok_and(|p| Path::new(p.trim_end()) == from.join(".git"));
        if !points_back || !to.is_absolute() {
            return self.worktree_move(from, to).await;
        }
        let failed = |what: &str, e: std::io::Error| GitError::Unexpected {
            action: "worktree move".into(),
            path: from.to_owned(),
            detail: format!("{what}: {e}"),
        };
        std::fs::rename(from, to).map_err(|e| failed("cannot rename the worktree", e))?;
        let lock = admin.join("gitdir.lock");
        let mut text = to.join(".git").into_os_string().into_encoded_bytes();
        text.push(b'\n');
        std::fs::write(&lock, text).map_err(|e| failed("cannot write its registration", e))?;
        std::fs::rename(&lock, &gitdir).map_err(|e| failed("cannot write its registration", e))?;
        Ok(())
    }

    /// Points the registration of a worktree moved by other means back at it.
    pub async fn worktree_repair(&self, path: &Path) -> Result<(), GitError> {
        self.git(["worktree", "repair", "--"]).arg(path).run().await?;
        Ok(())
    }
}

impl Worktree {
    /// Moves a detached worktree to `commit`, updating only the files that differ and
    /// refusing (changing nothing) where a file it would update has local changes.
    pub async fn fast_forward(&self, commit: &str) -> Result<(), GitError> {
        git(self.path(), ["reset", "-q", "--keep", plain_name(commit)?]).run().await?;
        Ok(())
    }

    /// Makes branch `branch` at `head` and puts this worktree's HEAD on it — provided
    /// `base` still points at `head` (else [`TakeError::Stale`], and nothing changed)
    /// and `branch` does not exist yet. One git process where git knows `symref-update`
    /// (2.46 and later), else two.
    pub async fn take_as_branch(&self, branch: &str, head: &str, base: &str) -> Result<(), TakeError> {
        let (branch, head, base) = (plain_name(branch)?, plain_name(head)?, plain_name(base)?);
        let checks = format!("start\nverify refs/heads/{base} {head}\ncreate refs/heads/{branch} {head}\n");
        let whole = format!("{checks}symref-update HEAD refs/heads/{branch}\nprepare\ncommit\n");
        let out = git(self.path(), ["update-ref", "--no-deref", "--stdin"]).stdin(whole).output().await?;
        if out.code == Some(0) {
            return Ok(());
        }
        let older_git = out.stderr.contains("unknown command");
        if !older_git {
            return Err(if out.stderr.contains(&format!("refs/heads/{base}")) { TakeError::Stale } else { out.error().into() });
        }
        let out = git(self.path(), ["update-ref", "--stdin"]).stdin(format!("{checks}prepare\ncommit\n")).output().await?;
        if out.code != Some(0) {
            return Err(if out.stderr.contains(&format!("refs/heads/{base}")) { TakeError::Stale } else { out.error().into() });
        }
        git(self.path(), ["symbolic-ref", "HEAD"]).arg(format!("refs/heads/{branch}")).run().await?;
        Ok(())
    }
}

/// The registration directory a linked worktree's `.git` file names, when it names it
/// by an absolute path.
fn registration(worktree: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(worktree.join(".git")).ok()?;
    let admin = PathBuf::from(text.strip_prefix("gitdir: ")?.trim_end());
    admin.is_absolute().then_some(admin)
}
