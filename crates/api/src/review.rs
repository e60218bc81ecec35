//! The review routes' bodies: the files a task's branch changes with their line
//! counts and what would conflict (`GET /api/tasks/{id}/files`), and one file's diff
//! (`GET /api/tasks/{id}/files/diff?path=`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileEntry {
    pub path: String,
    /// Lines added (null for a binary file, or a workspace file without a repo).
    pub additions: Option<u64>,
    /// Lines deleted (null as for `additions`).
    pub deletions: Option<u64>,
    pub binary: bool,
    /// A lockfile, minified or build output: the board shows it collapsed.
    pub generated: bool,
}

/// `GET /api/tasks/{id}/files`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FilesBody {
    /// Null for a task without a repo (its workspace's files are listed).
    pub base: Option<String>,
    pub branch: Option<String>,
    /// The task's worktree (or workspace), for resolving by hand.
    pub worktree: Option<String>,
    pub files: Vec<FileEntry>,
    /// Lines added over all files.
    pub additions: u64,
    pub deletions: u64,
    /// Files with uncommitted changes in the worktree.
    pub uncommitted: Vec<String>,
    /// Files that would conflict if the branch were merged into its base now.
    pub conflicts: Vec<String>,
    /// A rebase or merge stopped half-way in the worktree, in words
    /// ("mid-rebase with conflicts in: a.txt"); null when none is.
    pub unfinished: Option<String>,
    /// The files that half-done operation left conflicted.
    pub unmerged: Vec<String>,
}

/// `GET /api/tasks/{id}/files/diff?path=`
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileDiffQuery {
    /// A path the task's branch changes, as `GET .../files` lists it (with
    /// `side=base`: a path the base changed since the branch forked).
    pub path: String,
    /// `branch` (default): what the task's branch changed; `base`: what its base
    /// changed since the branch forked (the other side of a conflict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileDiffBody {
    pub path: String,
    /// The file's unified diff (`diff --git` header, hunks); cut at 4 MiB.
    pub diff: String,
    /// The diff was longer than what is sent.
    pub truncated: bool,
}
