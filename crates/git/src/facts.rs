//! Repo facts remembered per repository (its top level, the branch its HEAD names), so
//! starting a task in a repo asks git again only when the repo changed.
//!
//! A fact is valid while the files it comes from are the same files, unchanged: the
//! repo's `.git` directory (its identity: a repo moved or made again is another), its
//! `config` (`core.worktree` could move the top level) and its `HEAD`. git rewrites
//! `HEAD` and `config` by renaming a lock file over them, so a change is a new inode
//! and a new mtime. A file changed less than [`RACY`] before it was stamped is not
//! trusted (a later change could land in the same tick of the filesystem's clock), the
//! rule git itself uses for its index. Not `.git`'s own mtime: every `worktree add`
//! touches it. Only a main worktree (a `.git` directory, files refs, not reftable)
//! opened by its own top level is remembered; anything else asks git every time.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// How old a `.git` mtime must be to be trusted.
const RACY: Duration = Duration::from_millis(100);

/// What a repo's facts were read from: `.git`, `.git/config` and `.git/HEAD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    git_dir: (u64, u64),
    config: FileStamp,
    head: FileStamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

struct Facts {
    stamp: Stamp,
    /// The branch HEAD names (`None` inside: detached), once asked.
    branch: Option<Option<String>>,
}

/// A std mutex: held for a map lookup, never across an await.
fn facts() -> MutexGuard<'static, HashMap<PathBuf, Facts>> {
    static FACTS: LazyLock<Mutex<HashMap<PathBuf, Facts>>> = LazyLock::new(Default::default);
    FACTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// `root`'s stamp now, if it is a main worktree whose files can be trusted.
pub(crate) fn stamp(root: &Path) -> Option<Stamp> {
    let git = root.join(".git");
    let meta = std::fs::symlink_metadata(&git).ok()?;
    if !meta.is_dir() || git.join("reftable").exists() {
        return None;
    }
    Some(Stamp { git_dir: (meta.dev(), meta.ino()), config: file_stamp(&git.join("config"))?, head: file_stamp(&git.join("HEAD"))? })
}

fn file_stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let age = SystemTime::now().duration_since(meta.modified().ok()?).ok()?;
    (meta.is_file() && age >= RACY).then(|| FileStamp { ino: meta.ino(), len: meta.len(), mtime: (meta.mtime(), meta.mtime_nsec()) })
}

/// `path` itself, if it is known to be a repo's top level and its `.git` is unchanged.
pub(crate) fn known_root(path: &Path, now: Stamp) -> bool {
    facts().get(path).is_some_and(|f| f.stamp == now)
}

/// Remembers that `root` is a top level, as of `stamp` (taken before git was asked).
pub(crate) fn remember_root(root: &Path, stamp: Stamp) {
    let mut map = facts();
    if map.get(root).is_none_or(|f| f.stamp != stamp) {
        map.insert(root.to_path_buf(), Facts { stamp, branch: None });
    }
}

/// The branch HEAD names in `root`, if known and `.git` is unchanged.
pub(crate) fn known_branch(root: &Path) -> Option<Option<String>> {
    let now = stamp(root)?;
    let map = facts();
    let f = map.get(root)?;
    if f.stamp == now { f.branch.clone() } else { None }
}

/// Remembers the branch HEAD names, as of `stamp` (taken before git was asked).
pub(crate) fn remember_branch(root: &Path, stamp: Option<Stamp>, branch: Option<String>) {
    let Some(stamp) = stamp else { return };
    let mut map = facts();
    let f = map.entry(root.to_path_buf()).or_insert(Facts { stamp, branch: None });
    if f.stamp != stamp {
        *f = Facts { stamp, branch: None };
    }
    f.branch = Some(branch);
}
