//! Crash recovery at start-up: runs the store still holds as live belonged to a
//! daemon that died. They become `interrupted` (worktrees untouched), and whatever
//! is left of their processes is found by run token and killed. Worktree
//! registrations whose directories a crash removed are pruned; a worktree left
//! half-created is repaired when its task next runs (`workspace::prepare`).

use std::sync::Arc;

use bosun_agents::sweep;
use bosun_core::EventKind;
use chrono::Utc;

use crate::Engine;
use crate::error::StartError;

pub async fn recover(engine: &Arc<Engine>) -> Result<(), StartError> {
    // Registrations of worktrees whose directories are gone (a crash while removing).
    let repos: std::collections::BTreeSet<String> = engine.store.repo_counts().await?.into_iter().map(|c| c.repo).collect();
    for repo in repos {
        if let Ok(repo) = bosun_git::Repo::open(std::path::Path::new(&repo)).await
            && let Err(e) = repo.worktree_prune().await
        {
            tracing::warn!(repo = %repo.root().display(), "pruning worktrees failed: {e}");
        }
    }
    let orphans = engine.store.interrupt_live_runs(&engine.config.node, Utc::now()).await?;
    if orphans.is_empty() {
        return Ok(());
    }
    let tokens: Vec<String> = orphans.iter().map(|o| o.token.clone()).collect();
    let killed = tokio::task::spawn_blocking(move || sweep::kill_all(&tokens)).await.unwrap_or(0);
    tracing::warn!(runs = orphans.len(), killed, "recovered runs interrupted by a daemon crash");
    for orphan in &orphans {
        let run = &orphan.run;
        let message = if killed > 0 {
            "interrupted: the daemon stopped while this run was live; its leftover processes were killed"
        } else {
            "interrupted: the daemon stopped while this run was live"
        };
        engine.hub.emit(run.task_id, run.id, EventKind::status("interrupted", message)).await;
        if let Ok(task) = engine.store.get_task(run.task_id).await {
            engine.publish(&task);
        }
    }
    engine.hub.flush().await;
    Ok(())
}
