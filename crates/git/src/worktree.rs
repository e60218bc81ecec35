//! Worktrees: creating, listing and removing a task's checkout (on [`Repo`]), and the
//! operations an agent's checkout needs itself (on [`Worktree`]): status, commit, HEAD.

use std::path::{Path, PathBuf};

use crate::{GitError, Repo, bytes_to_path, fallback_identity, git, plain_name};

/// One entry of `git worktree list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorktreeInfo {
    pub path: PathBuf,
    /// Checked-out commit; `None` for a bare repository entry.
    pub head: Option<String>,
    /// Checked-out branch without `refs/heads/`; `None` if detached or bare.
    pub branch: Option<String>,
    pub bare: bool,
    pub detached: bool,
    /// `Some(reason)` when locked (`"initializing"` while `git worktree add` runs).
    pub locked: Option<String>,
    pub prunable: bool,
}

/// Parse `git worktree list --porcelain -z`.
pub(crate) fn parse_worktrees(out: &[u8]) -> Vec<WorktreeInfo> {
    let mut list = vec![];
    let mut cur: Option<WorktreeInfo> = None;
    for field in out.split(|&b| b == 0) {
        let (key, val) = match field.iter().position(|&b| b == b' ') {
            Some(i) => (&field[..i], &field[i + 1..]),
            None => (field, &b""[..]),
        };
        let text = || String::from_utf8_lossy(val).into_owned();
        if key == b"worktree" {
            list.extend(cur.take());
            cur = Some(WorktreeInfo { path: bytes_to_path(val), ..Default::default() });
            continue;
        }
        let Some(w) = cur.as_mut() else { continue };
        match key {
            b"" => list.extend(cur.take()),
            b"HEAD" => w.head = Some(text()),
            b"branch" => w.branch = Some(text().trim_start_matches("refs/heads/").to_owned()),
            b"bare" => w.bare = true,
            b"detached" => w.detached = true,
            b"locked" => w.locked = Some(text()),
            b"prunable" => w.prunable = true,
            _ => {}
        }
    }
    list.extend(cur);
    list
}

/// Same file as far as the filesystem can tell (falls back to comparing the paths).
fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Repo {
    /// Create branch `new_branch` from `base` and check it out at `path`. If the branch
    /// already exists (a retry after a crash) it is reused as is; if it is already checked
    /// out at `path`, there is nothing to do.
    pub async fn worktree_add(&self, path: &Path, new_branch: &str, base: &str) -> Result<(), GitError> {
        self.check_branch_name(new_branch).await?;
        plain_name(base)?;
        // The common case, a new branch, is one git process; git itself says when the
        // branch exists (and then has created nothing), or when a registration whose
        // directory is gone holds the path (a data dir removed, a store rolled back).
        let add_new = || self.git(["worktree", "add", "-b", new_branch, "--"]).arg(path).arg(base);
        let mut out = add_new().output().await?;
        if out.code != Some(0) && out.stderr.contains("missing but already registered worktree") {
            self.worktree_prune().await?;
            out = add_new().output().await?;
        }
        if out.code == Some(0) {
            return Ok(());
        }
        if !out.stderr.contains(&format!("a branch named '{new_branch}' already exists")) {
            return Err(out.error());
        }
        let existing = self.worktrees().await?;
        let here = |w: &WorktreeInfo| w.branch.as_deref() == Some(new_branch) && same_path(&w.path, path);
        if existing.iter().any(|w| here(w) && !w.prunable && path.join(".git").exists()) {
            return Ok(());
        }
        if existing.iter().any(|w| w.prunable) {
            self.worktree_prune().await?;
        }
        self.git(["worktree", "add", "--"]).arg(path).arg(new_branch).run().await?;
        Ok(())
    }

    /// Remove the worktree at `path`; `force` also discards its uncommitted changes.
    pub async fn worktree_remove(&self, path: &Path, force: bool) -> Result<(), GitError> {
        let mut cmd = self.git(["worktree", "remove"]);
        if force {
            cmd = cmd.arg("--force");
        }
        cmd.arg("--").arg(path).run().await?;
        Ok(())
    }

    /// Forget worktrees whose directories no longer exist.
    /// Gets rid of a worktree whatever state it is in (locked, half-created, its
    /// directory gone), and of its registration. Only for worktrees that hold nothing
    /// to keep: the caller decides that.
    pub async fn worktree_discard(&self, path: &Path) -> Result<(), GitError> {
        let _ = self.git(["worktree", "unlock", "--"]).arg(path).output().await?;
        if path.exists() {
            let removed = self.git(["worktree", "remove", "--force", "--force", "--"]).arg(path).output().await?;
            if removed.code != Some(0) && path.exists() {
                std::fs::remove_dir_all(path).map_err(|e| GitError::Unexpected {
                    action: "worktree remove".into(),
                    path: path.to_owned(),
                    detail: format!("cannot remove the directory: {e}"),
                })?;
            }
        }
        self.worktree_prune().await
    }

    pub async fn worktree_prune(&self) -> Result<(), GitError> {
        self.git(["worktree", "prune"]).run().await?;
        Ok(())
    }

    /// All worktrees, the main one first.
    pub async fn worktrees(&self) -> Result<Vec<WorktreeInfo>, GitError> {
        let out = self.git(["worktree", "list", "--porcelain", "-z"]).run().await?;
        Ok(parse_worktrees(&out.stdout))
    }
}

/// A checked-out worktree (typically a task's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    path: PathBuf,
}

/// Paths named by `git status --porcelain=v1 -z` (both sides of a rename).
pub(crate) fn parse_status(out: &[u8]) -> Vec<String> {
    let mut files = vec![];
    let mut entries = out.split(|&b| b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let Some(path) = entry.get(3..) else { continue };
        files.push(String::from_utf8_lossy(path).into_owned());
        if entry[..2].iter().any(|&c| c == b'R' || c == b'C') {
            files.extend(entries.next().map(|p| String::from_utf8_lossy(p).into_owned()));
        }
    }
    files
}

impl Worktree {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Worktree { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Paths with uncommitted changes (staged, unstaged or untracked; ignored files excluded).
    pub async fn dirty_files(&self) -> Result<Vec<String>, GitError> {
        let args = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"];
        Ok(parse_status(&git(&self.path, args).run().await?.stdout))
    }

    /// Stage everything and commit it; the new sha, or `None` if there was nothing to commit.
    /// Hooks never run, and a missing git identity falls back to `bosun <bosun@localhost>`.
    /// Paths matching `exclude_globs` (the repo's `copy` globs: secrets) are never staged.
    pub async fn commit_all(&self, message: &str, exclude_globs: &[String]) -> Result<Option<String>, GitError> {
        git(&self.path, ["add", "-A"]).run().await?;
        if !exclude_globs.is_empty() {
            // Unstage rather than exclude from `add`: git refuses exclude pathspecs that
            // name ignored paths, and a reset of a path that matches nothing is no error.
            let mut reset = git(&self.path, ["reset", "-q", "--"]);
            for pattern in exclude_globs {
                reset = reset.arg(format!(":(glob){pattern}"));
            }
            reset.run().await?;
        }
        let unchanged = git(&self.path, ["diff", "--cached", "--quiet", "--no-ext-diff"]).output().await?;
        if unchanged.yes_no()? {
            return Ok(None);
        }
        let config = fallback_identity(&self.path).await?;
        git(&self.path, ["commit", "--no-verify", "--quiet", "--cleanup=whitespace", "-m", message])
            .config(config)
            .config(["core.hooksPath=/dev/null".to_owned()])
            .run()
            .await?;
        self.head().await.map(Some)
    }

    /// Full sha of the checked-out commit.
    pub async fn head(&self) -> Result<String, GitError> {
        Ok(git(&self.path, ["rev-parse", "--verify", "HEAD^{commit}"]).run().await?.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_worktree_list() {
        let out = b"worktree /r\0HEAD abc\0branch refs/heads/main\0\0\
                    worktree /r/wt one\0HEAD def\0detached\0locked because\nreasons\0prunable gone\0\0";
        let list = parse_worktrees(out);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].path, PathBuf::from("/r"));
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[0].head.as_deref(), Some("abc"));
        assert_eq!(list[1].path, PathBuf::from("/r/wt one"));
        assert!(list[1].detached && list[1].prunable && list[1].branch.is_none());
        assert_eq!(list[1].locked.as_deref(), Some("because\nreasons"));
    }

    #[test]
    fn parses_status_including_renames() {
        let out = b" M a b.txt\0?? new\0R  to\0from\0";
        assert_eq!(parse_status(out), ["a b.txt", "new", "to", "from"]);
    }
}
