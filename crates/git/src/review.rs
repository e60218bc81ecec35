//! What a reviewer reads of a task branch: each changed file with its added and
//! deleted line counts, one file's diff, and the files that would conflict if the
//! branch were merged into its base now (computed in the object store, touching no
//! checkout).

use std::path::Path;

use crate::{GitError, MergeError, Repo, git, plain_name};

/// One file a branch changes, as `git diff --numstat` counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub path: String,
    /// Lines added and deleted; `None` for a binary file.
    pub lines: Option<(u64, u64)>,
}

impl Repo {
    /// Every file `branch` changed since it forked from `base`, with its line counts, in
    /// path order (renames listed as delete + add, as [`Repo::changed_files`] does).
    pub async fn file_stats(&self, base: &str, branch: &str) -> Result<Vec<FileStat>, GitError> {
        let range = format!("{}...{}", plain_name(base)?, plain_name(branch)?);
        let args = ["diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", &range, "--"];
        let out = self.git(args).run().await?;
        let mut stats = Vec::new();
        for entry in out.nul_list() {
            let mut parts = entry.splitn(3, '\t');
            let (Some(added), Some(deleted), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(out.unexpected(format!("malformed numstat entry {entry:?}")));
            };
            let lines = added.parse().ok().zip(deleted.parse().ok());
            stats.push(FileStat { path: path.to_owned(), lines });
        }
        stats.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(stats)
    }

    /// The unified diff of one file `branch` changed since it forked from `base` (the
    /// path taken literally, never as a pattern).
    pub async fn file_diff(&self, base: &str, branch: &str, path: &str) -> Result<String, GitError> {
        let range = format!("{}...{}", plain_name(base)?, plain_name(branch)?);
        let args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/"];
        let out = self.git(args).arg(range).arg("--").arg(format!(":(literal){path}")).run().await?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The files that would conflict if `branch` were merged into the local branch
    /// `base` now; empty when it merges cleanly.
    pub async fn merge_conflicts(&self, base: &str, branch: &str) -> Result<Vec<String>, GitError> {
        plain_name(base)?;
        plain_name(branch)?;
        let old = self.rev_parse(&format!("refs/heads/{base}")).await?;
        let tip = self.rev_parse(branch).await?;
        match self.merge_tree(&old, &tip, None).await {
            Ok(_) => Ok(vec![]),
            Err(MergeError::Conflict { files }) => Ok(files),
            Err(MergeError::Git(e)) => Err(e),
            Err(e) => Err(GitError::Unexpected { action: "merge-tree".into(), path: self.root().to_owned(), detail: e.to_string() }),
        }
    }
}

/// Two files compared outside any repository (`git diff --no-index`, run in `dir`,
/// the paths relative to it; `/dev/null` for a side that does not exist): their
/// unified diff and line counts (None for binary content). A deliverable against the
/// one an earlier run delivered.
pub async fn compare_files(dir: &Path, old: &str, new: &str) -> Result<(String, Option<(u64, u64)>), GitError> {
    let base = ["diff", "--no-index", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames"];
    let stat = git(dir, base).arg("--numstat").arg("--").arg(old).arg(new).output().await?;
    let diff = git(dir, base).arg("--src-prefix=a/").arg("--dst-prefix=b/").arg("--").arg(old).arg(new).output().await?;
    // Exit 1: they differ; 0: they are the same.
    for out in [&stat, &diff] {
        if !matches!(out.code, Some(0 | 1)) {
            return Err(out.error());
        }
    }
    let text = stat.text();
    let mut parts = text.split('\t');
    let lines = parts.next().and_then(|a| a.parse().ok()).zip(parts.next().and_then(|d| d.parse().ok()));
    let lines = if text.is_empty() { Some((0, 0)) } else { lines };
    Ok((String::from_utf8_lossy(&diff.stdout).into_owned(), lines))
}
