//! A task's workspace: a git worktree on the task's own branch for repo tasks, a
//! plain scratch directory for the rest. Both live under the data dir, named from
//! the task id and a sanitized slug, so no title can place them anywhere else.

use std::path::{Path, PathBuf};

use bosun_core::Task;
use bosun_core::slug::{task_branch, task_dir_name};
use bosun_git::{GitError, Repo, Unfinished, Worktree};
use bosun_store::StoreError;
use chrono::Utc;

use crate::Engine;
use crate::repo_config::{RepoConfigError, repo_config};

/// Why a workspace could not be made, or its leftovers committed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("cannot record the workspace: {0}")]
    Record(StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Config(#[from] RepoConfigError),
    #[error("{what} {}: {source}", path.display())]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("copy pattern {pattern:?}: {message}")]
    Pattern { pattern: String, message: String },
    #[error("{} looks like a worktree of {repo} that git no longer lists; run `git worktree repair` there, or `bosun rm --force`", path.display())]
    Unlisted { path: PathBuf, repo: String },
    #[error("the task has no base branch")]
    NoBase,
    #[error("{} is not a directory bosun made (a symlink or a file is in its place); remove it and retry", path.display())]
    NotOurs { path: PathBuf },
    /// Committing now would put conflict markers, or a commit off the task branch, in
    /// the task's history: nothing was committed, and the run does not count as a success.
    #[error("{0}")]
    NotCommitted(String),
}

/// A workspace path must be ours: absent, or a real directory — never a symlink (or
/// a file) someone planted there to send the agent elsewhere.
fn check_ours(path: &Path) -> Result<(), WorkspaceError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => Err(WorkspaceError::NotOurs { path: path.to_path_buf() }),
        _ => Ok(()),
    }
}

/// A task's workspace, and whether this call created it (new worktrees get the
/// repo's `copy` files and run its setup script).
pub struct Prepared {
    pub dir: PathBuf,
    pub created: bool,
    /// The task branch checked out there (repo tasks).
    pub branch: Option<String>,
    /// The repo's setup script already ran there (a pool worktree made with it).
    pub setup_ran: bool,
}

/// Where a task that has no workspace recorded gets one: for a repo task its branch,
/// and its directory under the data dir. None once one is recorded (its record holds).
pub fn planned(engine: &Engine, task: &Task) -> Option<(Option<String>, String)> {
    if task.worktree.is_some() {
        return None;
    }
    let dir_name = task_dir_name(task.id, &task.title);
    let (branch, dir) = match task.repo {
        None => (None, engine.config.workspaces_dir().join(dir_name)),
        Some(_) => {
            (Some(task.branch.clone().unwrap_or_else(|| task_branch(task.id, &task.title))), engine.config.worktrees_dir().join(dir_name))
        }
    };
    Some((branch, dir.to_string_lossy().into_owned()))
}

/// Makes sure the task's workspace exists, creating it if needed. The path (and
/// branch) are stored before anything is created on disk — by the run's start
/// ([`planned`]), or here — so a crash in between leaves a record the next attempt
/// repairs rather than an unknown directory. `fresh`: this run's start recorded it,
/// so nothing of it can exist yet unless a stranger put it there.
pub async fn prepare(engine: &Engine, task: &Task, fresh: bool) -> Result<Prepared, WorkspaceError> {
    let dir_name = task_dir_name(task.id, &task.title);
    let Some(repo_path) = &task.repo else {
        let dir = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| engine.config.workspaces_dir().join(&dir_name));
        if task.worktree.is_none() {
            record(engine, task, None, &dir).await?;
        }
        check_ours(&dir)?;
        let created = !dir.exists();
        std::fs::create_dir_all(&dir).map_err(|source| WorkspaceError::Io {
            what: "cannot create workspace",
            path: dir.clone(),
            source,
        })?;
        return Ok(Prepared { dir, created, branch: None, setup_ran: false });
    };

    let path = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| engine.config.worktrees_dir().join(&dir_name));
    let branch = task.branch.clone().unwrap_or_else(|| task_branch(task.id, &task.title));
    if task.worktree.is_none() || task.branch.is_none() {
        record(engine, task, Some(&branch), &path).await?;
    }
    check_ours(&path)?;
    let lock = engine.repo_lock(repo_path);
    let _serial = lock.lock().await;
    let repo = Repo::open(Path::new(repo_path)).await?;
    let base = task.base.as_deref().ok_or(WorkspaceError::NoBase)?;
    if (fresh || task.worktree.is_none()) && std::fs::symlink_metadata(&path).is_err() {
        // A first attempt at a path that is the task's own and does not exist: nothing
        // of it can be registered yet, so there is nothing to list or repair.
        return create(&repo, path, branch, base).await;
    }
    let listed = repo.worktrees().await?;
    let entry = listed.iter().find(|w| same_path(&w.path, &path));
    let whole = entry.is_some_and(|e| !e.prunable && e.locked.as_deref() != Some("initializing"));
    if whole && path.join(".git").exists() {
        // A retry: the worktree and its work are still there.
        return Ok(Prepared { dir: path, created: false, branch: Some(branch), setup_ran: false });
    }
    if entry.is_none() && path.join(".git").exists() {
        return Err(WorkspaceError::Unlisted { path, repo: repo_path.clone() });
    }
    // A crash while creating it may have left a registration, an "initializing" lock or
    // a directory without its `.git`: none of it holds work (no agent ran in it yet).
    if entry.is_some() || path.exists() {
        tracing::warn!(task = task.id, path = %path.display(), "repairing a half-created worktree");
        repo.worktree_discard(&path).await?;
    }
    create(&repo, path, branch, base).await
}

/// Checks out `branch` (made from `base` if new) at `path`, then copies the repo's
/// `copy` files in.
async fn create(repo: &Repo, path: PathBuf, branch: String, base: &str) -> Result<Prepared, WorkspaceError> {
    repo.worktree_add(&path, &branch, base).await?;
    let config = repo_config(repo.root())?;
    copy_untracked(repo.root(), &path, &config.copy)?;
    Ok(Prepared { dir: path, created: true, branch: Some(branch), setup_ran: false })
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Copies what the repo's `copy` globs match in the main checkout (`.env` files and
/// the like, which git does not carry) into a new worktree. Never overwrites what
/// the checkout put there, never reaches outside the repo.
pub(crate) fn copy_untracked(root: &Path, worktree: &Path, patterns: &[String]) -> Result<(), WorkspaceError> {
    let escaped_root = glob::Pattern::escape(&root.to_string_lossy());
    for pattern in patterns {
        let full = format!("{escaped_root}/{pattern}");
        let matches = glob::glob(&full).map_err(|e| WorkspaceError::Pattern { pattern: pattern.clone(), message: e.to_string() })?;
        for found in matches.flatten() {
            let Ok(rel) = found.strip_prefix(root) else { continue };
            if rel.components().next().is_some_and(|c| c.as_os_str() == ".git") {
                continue;
            }
            copy_tree(&found, &worktree.join(rel)).map_err(|source| WorkspaceError::Io {
                what: "cannot copy into the worktree:",
                path: rel.to_path_buf(),
                source,
            })?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if to.symlink_metadata().is_ok() && !meta.is_dir() {
        return Ok(()); // the checkout has it: tracked files win
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}

/// The repo's hook script `name` (`setup`, `cleanup`), if it has one: from the
/// user's checkout as it is on disk (committed or not), like its profiles and
/// `config.toml` — never from a task's worktree, where an agent can write. It runs
/// in the worktree, by its absolute path.
pub fn hook_script(repo_root: &Path, name: &str) -> Option<Vec<String>> {
    let path = repo_root.join(".bosun").join(name);
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let path = path.to_string_lossy().into_owned();
    // Not executable (a checkout on a filesystem without modes, a forgotten chmod): sh runs it.
    Some(if meta.permissions().mode() & 0o111 != 0 { vec![path] } else { vec!["sh".into(), path] })
}

async fn record(engine: &Engine, task: &Task, branch: Option<&str>, path: &Path) -> Result<(), WorkspaceError> {
    engine.store.set_task_workspace(task.id, branch, &path.to_string_lossy(), Utc::now()).await.map_err(WorkspaceError::Record)
}

/// What a rebase or merge left unfinished in the task's worktree `dir` (None for a
/// task without a repo, a worktree not made yet, or one with nothing unfinished).
pub async fn unfinished(task: &Task, dir: &Path) -> Result<Option<Unfinished>, GitError> {
    if task.repo.is_none() || !dir.join(".git").exists() {
        return Ok(None);
    }
    Worktree::new(dir).unfinished().await
}

/// Commits whatever the agent left uncommitted on the task branch, so nothing is lost
/// and `diff`/`merge` see it. Returns the new commit, if there was anything to commit.
/// Never commits while `resolving` (the files a resolve run was to resolve) still hold
/// conflict markers, while a rebase or merge is unfinished, or off the task branch
/// (a detached HEAD, another branch).
pub async fn commit_leftovers(task: &Task, workdir: &Path, agent: &str, resolving: &[String]) -> Result<Option<String>, WorkspaceError> {
    if task.repo.is_none() {
        return Ok(None);
    }
    let wt = Worktree::new(workdir);
    let refuse = |why: String| Err(WorkspaceError::NotCommitted(format!("{why}; bosun committed nothing")));
    let marked = wt.with_conflict_markers(resolving).await;
    if !marked.is_empty() {
        return refuse(format!("conflict markers remain in: {}", marked.join(", ")));
    }
    if let Some(left) = wt.unfinished().await? {
        return refuse(format!("the worktree is still {} ({})", left.describe(), left.how_to_finish()));
    }
    let branch = task.branch.as_deref().unwrap_or_default();
    match wt.branch().await? {
        Some(on) if on == branch => {}
        Some(on) => return refuse(format!("the worktree is on branch `{on}`, not the task's `{branch}`")),
        None => return refuse(format!("the worktree's HEAD is detached, not on the task's branch `{branch}`")),
    }
    let message = format!("bosun T-{}: {}\n\nUncommitted work left by agent `{agent}`, committed by bosun.", task.id, task.title);
    // Files copied in by the repo's `copy` globs (secrets, local config) stay out.
    let exclude = task.repo.as_deref().map(|r| repo_config(Path::new(r))).transpose()?.map(|c| c.copy).unwrap_or_default();
    Ok(wt.commit_all(&message, &exclude).await?)
}
