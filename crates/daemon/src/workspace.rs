//! A task's workspace: a git worktree on the task's own branch for repo tasks, a
//! plain scratch directory for the rest. Both live under the data dir, named from
//! the task id and a sanitized slug, so no title can place them anywhere else.

use std::path::{Path, PathBuf};

use bosun_core::Task;
use bosun_core::repo_config::RepoConfig;
use bosun_core::slug::{task_branch, task_dir_name};
use bosun_git::{Repo, Worktree};
use chrono::Utc;

use crate::Daemon;

/// A task's workspace, and whether this call created it (new worktrees get the
/// repo's `copy` files and run its setup script).
pub struct Prepared {
    pub dir: PathBuf,
    pub created: bool,
}

/// Makes sure the task's workspace exists, creating it if needed. The path (and
/// branch) are stored before anything is created on disk, so a crash in between
/// leaves a record the next attempt repairs rather than an unknown directory.
pub async fn prepare(daemon: &Daemon, task: &Task) -> Result<Prepared, String> {
    let dir_name = task_dir_name(task.id, &task.title);
    let Some(repo_path) = &task.repo else {
        let dir = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| daemon.config.workspaces_dir().join(&dir_name));
        if task.worktree.is_none() {
            record(daemon, task, None, &dir).await?;
        }
        let created = !dir.exists();
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create workspace {}: {e}", dir.display()))?;
        return Ok(Prepared { dir, created });
    };

    let path = task.worktree.as_ref().map(PathBuf::from).unwrap_or_else(|| daemon.config.worktrees_dir().join(&dir_name));
    let branch = task.branch.clone().unwrap_or_else(|| task_branch(task.id, &task.title));
    if task.worktree.is_none() || task.branch.is_none() {
        record(daemon, task, Some(&branch), &path).await?;
    }
    let lock = daemon.repo_lock(repo_path);
    let _serial = lock.lock().await;
    let repo = Repo::open(Path::new(repo_path)).await.map_err(|e| e.to_string())?;
    let listed = repo.worktrees().await.map_err(|e| e.to_string())?;
    let entry = listed.iter().find(|w| same_path(&w.path, &path));
    let whole = entry.is_some_and(|e| !e.prunable && e.locked.as_deref() != Some("initializing"));
    if whole && path.join(".git").exists() {
        return Ok(Prepared { dir: path, created: false }); // a retry: the worktree and its work are still there
    }
    if entry.is_none() && path.join(".git").exists() {
        return Err(format!(
            "{} looks like a worktree of {repo_path} that git no longer lists; run `git worktree repair` there, or `bosun rm --force`",
            path.display()
        ));
    }
    // A crash while creating it may have left a registration, an "initializing" lock or
    // a directory without its `.git`: none of it holds work (no agent ran in it yet).
    if entry.is_some() || path.exists() {
        tracing::warn!(task = task.id, path = %path.display(), "repairing a half-created worktree");
        repo.worktree_discard(&path).await.map_err(|e| e.to_string())?;
    }
    let base = task.base.as_deref().ok_or("the task has no base branch")?;
    repo.worktree_add(&path, &branch, base).await.map_err(|e| e.to_string())?;
    let config = repo_config(repo.root())?;
    copy_untracked(repo.root(), &path, &config.copy)?;
    Ok(Prepared { dir: path, created: true })
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The repo's `.bosun/config.toml` (defaults when it has none).
pub fn repo_config(repo_root: &Path) -> Result<RepoConfig, String> {
    let path = repo_root.join(".bosun").join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => RepoConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoConfig::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Copies what the repo's `copy` globs match in the main checkout (`.env` files and
/// the like, which git does not carry) into a new worktree. Never overwrites what
/// the checkout put there, never reaches outside the repo.
fn copy_untracked(root: &Path, worktree: &Path, patterns: &[String]) -> Result<(), String> {
    let escaped_root = glob::Pattern::escape(&root.to_string_lossy());
    for pattern in patterns {
        let full = format!("{escaped_root}/{pattern}");
        let matches = glob::glob(&full).map_err(|e| format!("copy pattern {pattern:?}: {e}"))?;
        for found in matches.flatten() {
            let Ok(rel) = found.strip_prefix(root) else { continue };
            if rel.components().next().is_some_and(|c| c.as_os_str() == ".git") {
                continue;
            }
            copy_tree(&found, &worktree.join(rel)).map_err(|e| format!("cannot copy {} into the worktree: {e}", rel.display()))?;
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

/// The repo's hook script `name` (`setup`, `cleanup`) in a worktree, if it has one.
pub fn hook_script(workdir: &Path, name: &str) -> Option<Vec<String>> {
    let path = workdir.join(".bosun").join(name);
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let rel = format!(".bosun/{name}");
    // Not executable (a checkout on a filesystem without modes, a forgotten chmod): sh runs it.
    Some(if meta.permissions().mode() & 0o111 != 0 { vec![format!("./{rel}")] } else { vec!["sh".into(), rel] })
}

async fn record(daemon: &Daemon, task: &Task, branch: Option<&str>, path: &Path) -> Result<(), String> {
    daemon
        .store
        .set_task_workspace(task.id, branch, &path.to_string_lossy(), Utc::now())
        .await
        .map_err(|e| format!("cannot record the workspace: {e}"))
}

/// Commits whatever the agent left uncommitted on the task branch, so nothing is lost
/// and `diff`/`merge` see it. Returns the new commit, if there was anything to commit.
pub async fn commit_leftovers(task: &Task, workdir: &Path, agent: &str) -> Result<Option<String>, String> {
    if task.repo.is_none() {
        return Ok(None);
    }
    let wt = Worktree::new(workdir);
    let message = format!("bosun T-{}: {}\n\nUncommitted work left by agent `{agent}`, committed by bosun.", task.id, task.title);
    // Files copied in by the repo's `copy` globs (secrets, local config) stay out.
    let exclude = task.repo.as_deref().map(|r| repo_config(Path::new(r))).transpose()?.map(|c| c.copy).unwrap_or_default();
    wt.commit_all(&message, &exclude).await.map_err(|e| e.to_string())
}
