//! A worktree that a git operation left half-way — a rebase or merge stopped on
//! conflicts, unmerged paths — and files still holding conflict markers: what bosun
//! checks before it starts an agent in a worktree and before it commits what one left.

use crate::{GitError, Worktree, bytes_to_path, git};

/// What a git operation left unfinished in a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The operation stopped half-way: `rebase`, `merge`, `cherry-pick` or `revert`.
    pub operation: Option<&'static str>,
    /// Paths with unresolved conflicts (unmerged in the index).
    pub conflicted: Vec<String>,
}

impl Unfinished {
    /// "mid-rebase with conflicts in: a.txt, b.txt", for a sentence about the worktree.
    pub fn describe(&self) -> String {
        let files = self.conflicted.join(", ");
        match (self.operation, self.conflicted.is_empty()) {
            (Some(op), true) => format!("mid-{op}"),
            (Some(op), false) => format!("mid-{op} with conflicts in: {files}"),
            (None, _) => format!("holding unmerged paths: {files}"),
        }
    }

    /// How a person finishes (or gives up on) the operation in the worktree.
    pub fn how_to_finish(&self) -> String {
        match self.operation {
            Some(op) => format!("resolve them, `git add` them and run `git {op} --continue` there (or `git {op} --abort`)"),
            None => "resolve them and `git add` them there".to_owned(),
        }
    }
}

/// The git-dir entries whose presence means an operation is stopped half-way.
const IN_PROGRESS: [(&str, &str); 5] = [
    ("rebase-merge", "rebase"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
];

impl Worktree {
    /// The operation stopped half-way here and the unmerged paths; None when neither.
    pub async fn unfinished(&self) -> Result<Option<Unfinished>, GitError> {
        let operation = self.operation_in_progress().await?;
        let conflicted = git(self.path(), ["diff", "--name-only", "--diff-filter=U", "-z", "--"]).run().await?.nul_list();
        Ok((operation.is_some() || !conflicted.is_empty()).then_some(Unfinished { operation, conflicted }))
    }

    pub(crate) async fn operation_in_progress(&self) -> Result<Option<&'static str>, GitError> {
        let mut cmd = git(self.path(), ["rev-parse", "--path-format=absolute"]);
        for (entry, _) in IN_PROGRESS {
            cmd = cmd.arg("--git-path").arg(entry);
        }
        let out = cmd.run().await?;
        let paths = out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        for (path, (_, operation)) in paths.zip(IN_PROGRESS) {
            if tokio::fs::symlink_metadata(bytes_to_path(path)).await.is_ok() {
                return Ok(Some(operation));
            }
        }
        Ok(None)
    }

    /// The branch checked out here; None when HEAD is detached (as it is mid-rebase).
    pub async fn branch(&self) -> Result<Option<String>, GitError> {
        let out = git(self.path(), ["symbolic-ref", "-q", "HEAD"]).output().await?;
        Ok(out.yes_no()?.then(|| out.text().trim_start_matches("refs/heads/").to_owned()))
    }

    /// Those of `files` (relative paths) that still hold a conflict marker: a line
    /// starting `<<<<<<< ` and one starting `>>>>>>> `. Missing files hold none.
    pub async fn with_conflict_markers(&self, files: &[String]) -> Vec<String> {
        let mut marked = Vec::new();
        for file in files {
            let Ok(content) = tokio::fs::read(self.path().join(file)).await else { continue };
            let has = |marker: &[u8]| content.split(|&b| b == b'\n').any(|line| line.starts_with(marker));
            if has(b"<<<<<<< ") && has(b">>>>>>> ") {
                marked.push(file.clone());
            }
        }
        marked
    }
}
