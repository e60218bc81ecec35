//! Landing a task branch on its base without risking anything: the result is computed
//! in the object store (`merge-tree` + `commit-tree`) without touching any checkout,
//! then the base branch is moved only if that cannot lose work — a fast-forward in the
//! checkout that has it (git refuses to overwrite local changes, and so do we, explicitly),
//! or an atomic compare-and-swap `update-ref` when it is not checked out anywhere.
//! The task branch itself is never moved or deleted here.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{GitError, Repo, Worktree, fallback_identity, git, plain_name};

/// How a task branch lands on its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    /// One new commit on base with the task's whole change.
    Squash,
    /// A merge commit (always, even when a fast-forward would be possible).
    Merge,
    /// The task's commits replayed on base (a fast-forward when base has not moved).
    Rebase,
}

impl fmt::Display for MergeStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MergeStrategy::Squash => "squash",
            MergeStrategy::Merge => "merge",
            MergeStrategy::Rebase => "rebase",
        })
    }
}

impl FromStr for MergeStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "squash" => Ok(MergeStrategy::Squash),
            "merge" => Ok(MergeStrategy::Merge),
            "rebase" => Ok(MergeStrategy::Rebase),
            _ => Err(format!("unknown merge strategy {s:?} (expected squash, merge or rebase)")),
        }
    }
}

/// A merge that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The new tip of the base branch.
    pub commit: String,
    pub strategy: MergeStrategy,
    /// Base was simply moved to the task branch's tip (rebase onto an unmoved base).
    pub fast_forward: bool,
}

/// Why there is nothing to land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nothing {
    /// The branch's files are as they were when it was created: nobody changed anything.
    NoChanges,
    /// The branch changed something, and all of it is already on the base (merged
    /// before, or the same change landed there another way).
    AlreadyInBase,
}

impl fmt::Display for Nothing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nothing::NoChanges => "the branch has no changes",
            Nothing::AlreadyInBase => "the branch's changes are already on the base",
        })
    }
}

/// Why a merge did not happen. In every case nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("merge conflict in: {}", files.join(", "))]
    Conflict { files: Vec<String> },
    #[error(
        "uncommitted changes in {} to files the merge changes: {}; commit or stash them first",
        path.display(),
        files.join(", ")
    )]
    DirtyCheckout { path: PathBuf, files: Vec<String> },
    #[error("nothing to merge: {0}")]
    NothingToMerge(Nothing),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Files a failed `git merge` refused to overwrite, from its error message.
pub(crate) fn overwritten_files(stderr: &str) -> Vec<String> {
    let mut files = vec![];
    let mut listing = false;
    for line in stderr.lines() {
        if line.contains("would be overwritten") {
            listing = true;
        } else if listing && line.starts_with('\t') {
            files.push(line.trim().to_owned());
        } else {
            listing = false;
        }
    }
    files
}

/// `path` and `other` are the same path or one contains the other.
fn overlaps(path: &str, other: &str) -> bool {
    let inside = |a: &str, b: &str| a.strip_prefix(b).is_some_and(|rest| rest.starts_with('/'));
    path == other || inside(path, other) || inside(other, path)
}

impl Repo {
    /// Land `branch` on the local branch `base` with `strategy`; see the module docs.
    pub async fn merge(&self, base: &str, branch: &str, strategy: MergeStrategy, message: &str) -> Result<MergeOutcome, MergeError> {
        plain_name(base)?;
        plain_name(branch)?;
        let old = self.rev_parse(&format!("refs/heads/{base}")).await?;
        let tip = self.rev_parse(branch).await?;
        let fork = self.git(["merge-base", &old, &tip]).run().await?.text();
        if fork == tip {
            return Err(self.nothing_to_merge(branch, &tip, &fork).await);
        }
        let identity = fallback_identity(&self.root).await?;
        let (new, fast_forward) = match strategy {
            MergeStrategy::Rebase if fork == old => (tip.clone(), true),
            MergeStrategy::Rebase => (self.replay(&old, &fork, &tip, &identity).await?, false),
            MergeStrategy::Merge | MergeStrategy::Squash => {
                let tree = self.merge_tree(&old, &tip, None).await?;
                let merge = strategy == MergeStrategy::Merge;
                let message = match (message.trim().is_empty(), merge) {
                    (false, _) => message.to_owned(),
                    (true, true) => format!("Merge branch '{branch}' into {base}"),
                    (true, false) => format!("Squashed branch '{branch}'"),
                };
                let parents: &[&str] = if merge { &[&old, &tip] } else { &[&old] };
                (self.commit_tree(&tree, parents, &message, &identity, None).await?, false)
            }
        };
        // Never an empty commit (merge commits included), nor commits that add up to nothing.
        if self.tree_of(&new).await? == self.tree_of(&old).await? {
            return Err(self.nothing_to_merge(branch, &tip, &fork).await);
        }
        self.advance(base, &old, &new).await?;
        Ok(MergeOutcome { commit: new, strategy, fast_forward })
    }

    /// Three-way merge of two commits into a tree object, touching no checkout.
    pub(crate) async fn merge_tree(&self, ours: &str, theirs: &str, fork: Option<&str>) -> Result<String, MergeError> {
        let mut cmd = self.git(["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z"]);
        if let Some(fork) = fork {
            cmd = cmd.arg(format!("--merge-base={fork}"));
        }
        let out = cmd.arg(ours).arg(theirs).output().await?;
        let mut fields = out.nul_list().into_iter();
        match (out.code, fields.next()) {
            (Some(0), Some(tree)) => Ok(tree),
            (Some(1), Some(_)) => {
                let mut files: Vec<String> = fields.collect();
                files.dedup(); // a path can be listed once per conflicting stage
                Err(MergeError::Conflict { files })
            }
            _ => Err(out.error().into()),
        }
    }

    /// Why a branch with nothing to land has nothing: its files are as they were where
    /// it started (the oldest entry of its reflog, else where it forked from the base),
    /// or it changed them and the base has it all. Only the wording depends on this.
    async fn nothing_to_merge(&self, branch: &str, tip: &str, fork: &str) -> MergeError {
        let why = async {
            let refname = format!("refs/heads/{branch}");
            let reflog = self.git(["reflog", "show", "--format=%H", &refname, "--"]).run().await?.text();
            let start = reflog.lines().last().unwrap_or(fork);
            let unchanged = self.tree_of(tip).await? == self.tree_of(start).await?;
            Ok::<_, GitError>(if unchanged { Nothing::NoChanges } else { Nothing::AlreadyInBase })
        };
        match why.await {
            Ok(why) => MergeError::NothingToMerge(why),
            Err(e) => e.into(),
        }
    }

    async fn tree_of(&self, commit: &str) -> Result<String, GitError> {
        Ok(self.git(["rev-parse", "--verify", &format!("{commit}^{{tree}}")]).run().await?.text())
    }

    /// Write a commit object; `author` is (name, email, raw date) to preserve, if any.
    async fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
        identity: &[String],
        author: Option<[&str; 3]>,
    ) -> Result<String, GitError> {
        let mut cmd = self.git(["commit-tree", tree]).config(identity.to_vec());
        for parent in parents {
            cmd = cmd.arg("-p").arg(parent);
        }
        if let Some([name, email, date]) = author {
            cmd = cmd.env("GIT_AUTHOR_NAME", name).env("GIT_AUTHOR_EMAIL", email).env("GIT_AUTHOR_DATE", date);
        }
        Ok(cmd.arg("-m").arg(message).run().await?.text())
    }

    /// Cherry-pick each non-merge commit of `fork..tip` onto `onto`, in the object store.
    /// Commits that become empty are dropped, as `git rebase` does (all of them: `onto`).
    async fn replay(&self, onto: &str, fork: &str, tip: &str, identity: &[String]) -> Result<String, MergeError> {
        const FORMAT: &str = "--format=%H%x00%P%x00%an%x00%ae%x00%ad%x00%B";
        let args = ["log", "--reverse", "--no-merges", "--no-show-signature", "-z", "--date=raw", FORMAT];
        let out = self.git(args).arg(format!("{fork}..{tip}")).arg("--").run().await?;
        let text = String::from_utf8_lossy(&out.stdout);
        let text = text.strip_suffix('\0').unwrap_or(&text);
        let fields: Vec<&str> = if text.is_empty() { vec![] } else { text.split('\0').collect() };
        let commits = fields.chunks_exact(6);
        if !commits.remainder().is_empty() {
            return Err(out.unexpected("malformed commit list").into());
        }
        let (mut cur, mut cur_tree) = (onto.to_owned(), self.tree_of(onto).await?);
        for c in commits {
            let [sha, parents, name, email, date, message] = [c[0], c[1], c[2], c[3], c[4], c[5]];
            let Some(parent) = parents.split(' ').next().filter(|p| !p.is_empty()) else {
                return Err(out.unexpected(format!("cannot replay root commit {sha}")).into());
            };
            let tree = self.merge_tree(&cur, sha, Some(parent)).await?;
            if tree != cur_tree {
                cur = self.commit_tree(&tree, &[&cur], message, identity, Some([name, email, date])).await?;
                cur_tree = tree;
            }
        }
        Ok(cur)
    }

    /// Move branch `base` from `old` to `new` without ever touching uncommitted work.
    async fn advance(&self, base: &str, old: &str, new: &str) -> Result<(), MergeError> {
        let worktrees = self.worktrees().await?;
        // A prunable entry's directory is gone: nothing there to keep in sync.
        let Some(checkout) = worktrees.iter().find(|w| w.branch.as_deref() == Some(base) && !w.prunable) else {
            let refname = format!("refs/heads/{base}");
            let reason = format!("bosun: merge into {base}");
            self.git(["update-ref", "-m", &reason, &refname, new, old]).run().await?;
            return Ok(());
        };
        let changed = self.git(["diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new]).run().await?;
        let changed = changed.nul_list();
        let dirty = Worktree::new(&checkout.path).dirty_files().await?;
        let clash: Vec<String> = dirty.into_iter().filter(|d| changed.iter().any(|c| overlaps(d, c))).collect();
        let dirty_checkout = |files| MergeError::DirtyCheckout { path: checkout.path.clone(), files };
        if !clash.is_empty() {
            return Err(dirty_checkout(clash));
        }
        let args = ["merge", "--ff-only", "--quiet", "--no-autostash", "--no-verify-signatures", new];
        let out = git(&checkout.path, args).config(["core.hooksPath=/dev/null".to_owned()]).output().await?;
        if out.code == Some(0) {
            return Ok(());
        }
        match overwritten_files(&out.stderr) {
            files if !files.is_empty() => Err(dirty_checkout(files)),
            _ => Err(out.error().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_round_trips() {
        for s in [MergeStrategy::Squash, MergeStrategy::Merge, MergeStrategy::Rebase] {
            assert_eq!(s.to_string().parse::<MergeStrategy>().unwrap(), s);
        }
        assert!("octopus".parse::<MergeStrategy>().is_err());
    }

    #[test]
    fn parses_refusal_to_overwrite() {
        let stderr = "error: Your local changes to the following files would be overwritten by merge:\n\
                      \ta.txt\n\tdir/b c.txt\nPlease commit your changes or stash them before you merge.\n\
                      error: The following untracked working tree files would be overwritten by merge:\n\
                      \tnew.txt\nPlease move or remove them before you merge.\nAborting";
        assert_eq!(overwritten_files(stderr), ["a.txt", "dir/b c.txt", "new.txt"]);
    }

    #[test]
    fn overlapping_paths() {
        assert!(overlaps("a/b", "a/b") && overlaps("a", "a/b") && overlaps("a/b", "a"));
        assert!(!overlaps("ab", "a") && !overlaps("a", "b"));
    }
}
