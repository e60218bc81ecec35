//! The warm worktree pool: per repo, `[pool] size` worktrees (default `serve --pool`)
//! checked out ahead of any task under `<data-dir>/pool/<id>`, detached at the base
//! branch's head, with the repo's `.bosun/setup` already run in them when it is marked
//! `[setup] poolable`. A task's first run takes one instead of checking out its own:
//! one store transaction claims the entry and records the task's branch and worktree,
//! then one `update-ref` makes the task branch at the entry's commit — only if the
//! base still points there — and puts HEAD on it, and `worktree move` puts it in the
//! task's place. The pool is refilled after the agent has started, in the background,
//! which also moves ready entries forward when the base has moved (or recreates them
//! when their setup ran for the old commit). Start-up repair discards whatever a crash
//! left half-made or half-claimed (such a task's retry starts cold); `gc` removes
//! entries no longer wanted and directories no entry names. Pool worktrees hold no
//! one's work: they are never a task's until claimed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bosun_core::Task;
use bosun_core::repo_config::RepoConfig;
use bosun_core::slug::{task_branch, task_dir_name};
use bosun_git::{GitError, Repo, TakeError, Worktree};
use bosun_store::pool::{PoolClaim, PoolEntry, PoolState};
use chrono::Utc;

use crate::repo_config::repo_config;
use crate::workspace::{Prepared, WorkspaceError, copy_untracked, hook_script};
use crate::{Engine, cleanup};

/// Why filling or handing over a pool entry failed (logged: a task then starts cold).
#[derive(Debug, thiserror::Error)]
enum PoolError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Take(#[from] TakeError),
    #[error(transparent)]
    Store(#[from] bosun_store::StoreError),
    #[error("the setup script {0}")]
    Setup(String),
    #[error("the pool entry has no commit recorded")]
    NoHead,
}

/// How many warm worktrees `config` (a repo's) asks for.
fn wanted(engine: &Engine, config: &RepoConfig) -> usize {
    config.pool.size.unwrap_or(engine.config.pool_size)
}

fn pool_size(engine: &Engine, repo: &str) -> usize {
    repo_config(Path::new(repo)).map(|c| wanted(engine, &c)).unwrap_or(0)
}

/// A warm worktree for a task whose run's start just recorded its workspace (`fresh`:
/// nothing of it exists), if its repo's pool has one ready for its base: moved into
/// the task's place on the task's branch. None: start cold (nothing was ready, or
/// handing it over failed, and the entry was discarded).
pub(crate) async fn take(engine: &Engine, task: &Task, fresh: bool) -> Option<Prepared> {
    let (Some(repo), Some(base)) = (task.repo.as_deref(), task.base.as_deref()) else { return None };
    if !fresh || pool_size(engine, repo) == 0 {
        return None;
    }
    let path = engine.config.worktrees_dir().join(task_dir_name(task.id, &task.title));
    if std::fs::symlink_metadata(&path).is_ok() {
        return None; // something is there already: the cold path decides what
    }
    let branch = task_branch(task.id, &task.title);
    let worktree = path.to_string_lossy();
    let claim = PoolClaim { task_id: task.id, repo, base, branch: &branch, worktree: &worktree };
    let entry = match engine.store.pool().claim_pool_entry(&claim, Utc::now()).await {
        Ok(Some(entry)) => entry,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(task = task.id, "cannot claim a pool worktree: {e}");
            return None;
        }
    };
    crate::crash::point("pool-claimed");
    match hand_over(&entry, &branch, &path).await {
        Ok(()) => {
            // Off the start's path: a claimed row whose directory is gone is one
            // start-up repair forgets too.
            let (store, id) = (engine.store.clone(), entry.id);
            tokio::spawn(async move {
                if let Err(e) = store.pool().delete_pool_entry(id).await {
                    tracing::warn!(entry = id, "cannot forget a taken pool entry (start-up repair will): {e}");
                }
            });
            tracing::info!(task = task.id, entry = entry.id, "took a warm worktree from the pool");
            Some(Prepared { dir: path, created: true, branch: Some(branch), setup_ran: entry.setup_ran })
        }
        Err(e) => {
            tracing::warn!(task = task.id, entry = entry.id, "cannot take the pool worktree, starting cold: {e}");
            discard(engine, &entry).await;
            None
        }
    }
}

/// The entry's worktree becomes the task's: its branch at the base's current head
/// (moved forward first if the base moved since and no setup ran for the old
/// commit), then moved to `path`.
async fn hand_over(entry: &PoolEntry, branch: &str, path: &Path) -> Result<(), PoolError> {
    let head = entry.head.as_deref().ok_or(PoolError::NoHead)?;
    let wt = Worktree::new(&entry.path);
    let repo = Repo::open(Path::new(&entry.repo)).await?;
    match wt.take_as_branch(branch, head, &entry.base).await {
        Ok(()) => {}
        Err(TakeError::Stale) if !entry.setup_ran => {
            let now = repo.rev_parse(&entry.base).await?;
            tracing::debug!(entry = entry.id, "the base moved: the pool worktree goes forward first");
            wt.fast_forward(&now).await?;
            wt.take_as_branch(branch, &now, &entry.base).await?;
        }
        Err(e) => return Err(e.into()),
    }
    crate::crash::point("pool-branched");
    // No repo lock: the move touches only this worktree and its own registration,
    // and a refill's checkout must not hold up a task's start.
    repo.worktree_relocate(Path::new(&entry.path), path).await?;
    Ok(())
}

/// Tops up `repo`'s pool for `base` in the background (one pass at a time per repo; a
/// call during a pass asks for one more). Called after a task's agent started, and at
/// start-up.
pub(crate) fn refill(engine: &Arc<Engine>, repo: &str, base: &str) {
    if pool_size(engine, repo) == 0 {
        return;
    }
    {
        let mut busy = engine.refills.lock().unwrap();
        if let Some(next) = busy.get_mut(repo) {
            *next = Some(base.to_string());
            return;
        }
        busy.insert(repo.to_string(), None);
    }
    let (engine, repo, mut base) = (engine.clone(), repo.to_string(), base.to_string());
    tokio::spawn(async move {
        loop {
            if let Err(e) = fill(&engine, &repo, &base).await {
                tracing::warn!(repo = %repo, "cannot fill the worktree pool: {e}");
            }
            let mut busy = engine.refills.lock().unwrap();
            match busy.get_mut(&repo).and_then(Option::take) {
                Some(next) if !*engine.closing().borrow() => base = next,
                _ => {
                    busy.remove(&repo);
                    return;
                }
            }
        }
    });
}

/// One pass over `repo`'s pool for `base`: entries behind the base moved forward (or
/// recreated), then new ones made up to the wanted size.
async fn fill(engine: &Engine, repo: &str, base: &str) -> Result<(), PoolError> {
    let root = Path::new(repo);
    let config = repo_config(root).map_err(WorkspaceError::from)?;
    let size = wanted(engine, &config);
    let git = Repo::open(root).await?;
    let head = git.rev_parse(base).await?;
    let entries = engine.store.pool().pool_entries().await?;
    let mut kept = 0;
    for entry in entries.iter().filter(|e| e.repo == repo && e.base == base && e.state != PoolState::Claimed) {
        if entry.state == PoolState::Ready && entry.head.as_deref() != Some(head.as_str()) && !refresh(engine, entry, &head).await {
            continue;
        }
        kept += 1;
    }
    for _ in kept..size {
        if *engine.closing().borrow() {
            break;
        }
        make(engine, &git, &config, repo, base, &head).await?;
    }
    Ok(())
}

/// Moves a ready entry to the base's new head; false if it is gone instead (someone
/// took it meanwhile, its setup ran for the old commit, or it could not move).
async fn refresh(engine: &Engine, entry: &PoolEntry, head: &str) -> bool {
    let pool = engine.store.pool();
    if !pool.set_pool_state(entry.id, PoolState::Ready, PoolState::Refreshing, None, None).await.unwrap_or(false) {
        return false;
    }
    if !entry.setup_ran {
        match Worktree::new(&entry.path).fast_forward(head).await {
            Ok(()) => {
                return pool.set_pool_state(entry.id, PoolState::Refreshing, PoolState::Ready, Some(head), None).await.unwrap_or(false);
            }
            Err(e) => tracing::warn!(entry = entry.id, "cannot move a pool worktree forward: {e}"),
        }
    }
    discard(engine, entry).await;
    false
}

/// Makes one entry: its row first (so a crash leaves a record to repair), then the
/// checkout, the repo's `copy` files and, when poolable, its setup.
async fn make(engine: &Engine, git: &Repo, config: &RepoConfig, repo: &str, base: &str, head: &str) -> Result<(), PoolError> {
    let dir = engine.config.pool_dir();
    let entry = engine.store.pool().add_pool_entry(repo, base, &dir.to_string_lossy(), Utc::now()).await?;
    let made = async {
        let path = PathBuf::from(&entry.path);
        {
            let lock = engine.repo_lock(repo);
            let _serial = lock.lock().await;
            git.worktree_add_detached(&path, head).await?;
        }
        crate::crash::point("pool-made");
        copy_untracked(git.root(), &path, &config.copy)?;
        let setup = config.setup.poolable.then(|| hook_script(git.root(), "setup")).flatten();
        if let Some(argv) = &setup {
            run_setup(engine, &entry, argv).await?;
        }
        let ready = engine.store.pool().set_pool_state(entry.id, PoolState::Making, PoolState::Ready, Some(head), Some(setup.is_some()));
        ready.await?;
        Ok::<_, PoolError>(())
    };
    if let Err(e) = made.await {
        discard(engine, &entry).await;
        return Err(e);
    }
    tracing::debug!(repo, entry = entry.id, "a warm worktree is ready");
    Ok(())
}

/// Runs the repo's setup script in a pool worktree, as the daemon's child, with the
/// environment agents get from the daemon (no task's variables: there is no task),
/// its output in `<data-dir>/logs/pool/<id>.log`.
async fn run_setup(engine: &Engine, entry: &PoolEntry, argv: &[String]) -> Result<(), PoolError> {
    let log = engine.config.data_dir.join("logs").join("pool");
    let failed = |why: String| PoolError::Setup(why);
    std::fs::create_dir_all(&log).map_err(|e| failed(format!("cannot have a log: {e}")))?;
    let log = log.join(format!("{}.log", entry.id));
    let out = std::fs::File::create(&log).map_err(|e| failed(format!("cannot have a log: {e}")))?;
    let err = out.try_clone().map_err(|e| failed(format!("cannot have a log: {e}")))?;
    let set = [("BOSUN_WORKTREE".to_string(), entry.path.clone()), ("BOSUN_POOL".to_string(), "1".to_string())];
    let env = bosun_agents::env::build(std::env::vars_os(), &[], &[], &set);
    let status = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(&entry.path)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| failed(format!("cannot start: {e}")))?;
    if !status.success() {
        return Err(failed(format!("failed ({status}); its output is in {}", log.display())));
    }
    Ok(())
}

/// Gets rid of an entry: its worktree (whatever state it is in) and its row.
async fn discard(engine: &Engine, entry: &PoolEntry) {
    let path = Path::new(&entry.path);
    let repo = Repo::open(Path::new(&entry.repo)).await.ok();
    if let Err(e) = cleanup::remove_pool_worktree(engine, repo.as_ref(), path).await {
        tracing::warn!(entry = entry.id, path = %path.display(), "cannot remove a pool worktree: {e}");
        return; // its row stays: the next repair or gc tries again
    }
    if let Err(e) = engine.store.pool().delete_pool_entry(entry.id).await {
        tracing::warn!(entry = entry.id, "cannot forget a removed pool entry: {e}");
    }
}

/// Start-up: what a crash left of the pool. Entries being made or moved forward are
/// discarded; a claimed one is discarded if it was not moved into its task's place yet
/// (the task's retry starts cold), else its move's registration is repaired; a ready
/// one whose directory is gone is forgotten; directories no entry names are removed.
pub(crate) async fn repair(engine: &Engine) -> Result<(), bosun_store::StoreError> {
    let entries = engine.store.pool().pool_entries().await?;
    for entry in &entries {
        let path = Path::new(&entry.path);
        match entry.state {
            PoolState::Ready if path.join(".git").exists() => {}
            PoolState::Claimed if !path.exists() => {
                // Moved: the registration must follow the directory (a move cut short).
                if let Some(task) = entry.task_id
                    && let Ok(task) = engine.store.get_task(task).await
                    && let Some(wt) = task.worktree.as_deref().filter(|w| Path::new(w).exists())
                    && let Ok(repo) = Repo::open(Path::new(&entry.repo)).await
                    && let Err(e) = repo.worktree_repair(Path::new(wt)).await
                {
                    tracing::warn!(task = task.id, "cannot repair a moved worktree's registration: {e}");
                }
                engine.store.pool().delete_pool_entry(entry.id).await?;
            }
            _ => {
                tracing::warn!(entry = entry.id, state = entry.state.as_str(), "discarding a pool worktree a crash left");
                discard(engine, entry).await;
            }
        }
    }
    remove_unnamed(engine, &entries).await;
    Ok(())
}

/// Directories under `<data-dir>/pool/` that no entry names (a store rolled back, a
/// row removed by hand): no task's, no one's work; removed with their registrations.
async fn remove_unnamed(engine: &Engine, entries: &[PoolEntry]) -> usize {
    let Ok(dir) = std::fs::read_dir(engine.config.pool_dir()) else { return 0 };
    let mut removed = 0;
    for found in dir.flatten() {
        let path = found.path();
        if entries.iter().any(|e| Path::new(&e.path) == path) {
            continue;
        }
        tracing::warn!(path = %path.display(), "removing a pool directory no entry names");
        // Its repo, found from the worktree itself (its `.git` file), if it is one.
        let repo = Repo::open(&path).await.ok().filter(|r| r.root() != path);
        match cleanup::remove_pool_worktree(engine, repo.as_ref(), &path).await {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(path = %path.display(), "cannot remove it: {e}"),
        }
    }
    removed
}

/// Start-up: every repo that had tasks gets its pool filled for its current branch.
pub(crate) async fn fill_all(engine: &Arc<Engine>) {
    let Ok(counts) = engine.store.repo_counts().await else { return };
    for repo in counts.into_iter().map(|c| c.repo) {
        if pool_size(engine, &repo) == 0 {
            continue;
        }
        if let Ok(git) = Repo::open(Path::new(&repo)).await
            && let Ok(Some(base)) = git.current_branch().await
        {
            refill(engine, &repo, &base);
        }
    }
}

/// `gc --yes`: ready entries beyond what their repo now wants (a smaller or no
/// `[pool] size`) and pool directories no entry names; how many went.
pub(crate) async fn gc(engine: &Engine) -> Result<usize, bosun_store::StoreError> {
    let entries = engine.store.pool().pool_entries().await?;
    let mut removed = remove_unnamed(engine, &entries).await;
    let mut seen: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for entry in entries.iter().filter(|e| e.state == PoolState::Ready) {
        let n = seen.entry((&entry.repo, &entry.base)).or_default();
        *n += 1;
        let unwanted = *n > pool_size(engine, &entry.repo);
        if unwanted && engine.store.pool().set_pool_state(entry.id, PoolState::Ready, PoolState::Refreshing, None, None).await? {
            discard(engine, entry).await;
            removed += 1;
        }
    }
    Ok(removed)
}
