//! Crash recovery at start-up. Runs the store still holds as live belonged to a
//! daemon that stopped or died. Those whose agent's holder still answers (or left a
//! finished spool) are taken back: their supervisors re-attach and take in what the
//! agents printed meanwhile. The rest become `interrupted` (worktrees untouched), and
//! whatever is left of their processes is killed: their cgroups, and what carries
//! their run tokens. Worktree
//! registrations whose directories a crash removed are pruned; a worktree left
//! half-created is repaired when its task next runs (`workspace::prepare`).

use std::path::Path;
use std::sync::Arc;

use bosun_agents::sweep;
use bosun_core::{AgentProfile, EventKind, Run, Task};
use chrono::Utc;

use crate::Engine;
use crate::error::StartError;
use crate::profiles::Profiles;

pub async fn recover(engine: &Arc<Engine>) -> Result<(), StartError> {
    // Registrations of worktrees whose directories are gone (a crash while removing).
    let repos: std::collections::BTreeSet<String> = engine.store.repo_counts().await?.into_iter().map(|c| c.repo).collect();
    for repo in repos {
        if let Ok(repo) = bosun_git::Repo::open(Path::new(&repo)).await
            && let Err(e) = repo.worktree_prune().await
        {
            tracing::warn!(repo = %repo.root().display(), "pruning worktrees failed: {e}");
        }
    }
    let mut kept = Vec::new();
    for live in engine.store.live_runs().await?.into_iter().filter(|r| r.node == engine.config.node) {
        if let Some(found) = held_run(engine, live.task_id, live.run_id).await {
            kept.push(found);
        }
    }
    let keep: Vec<i64> = kept.iter().map(|(_, run, _)| run.id).collect();
    let orphans = engine.store.interrupt_live_runs(&engine.config.node, &keep, Utc::now()).await?;
    for (task, run, profile) in kept {
        tracing::info!(task = task.id, run = run.id, "taking back a run whose agent outlived the daemon");
        // Its budgets as configured now (its reservation is in the store already).
        let profiles = Profiles::load(task.repo.as_deref().map(Path::new), &engine.config.user_agents_dir());
        let rules = crate::routing::Rules::load(task.repo.as_deref().map(Path::new), &engine.config.config_dir, &profiles);
        let budgets = crate::routing::spend_for(engine, &task, &profile.name, None, &rules.budget).await.budgets;
        crate::supervisor::reattach(engine, task, run, profile, budgets);
    }
    if orphans.is_empty() {
        return Ok(());
    }
    let tokens: Vec<String> = orphans.iter().map(|o| o.token.clone()).collect();
    // Their cgroups first (everything in them, whatever its environment), then
    // whatever else carries their tokens.
    let holders: Vec<_> = orphans.iter().filter_map(|o| engine.config.holder(o.run.task_id, o.run.id, None)).collect();
    let killed = tokio::task::spawn_blocking(move || holders.iter().map(|h| h.end_cgroup()).sum::<usize>() + sweep::kill_all(&tokens))
        .await
        .unwrap_or(0);
    tracing::warn!(runs = orphans.len(), killed, "recovered runs interrupted by a daemon crash");
    for orphan in &orphans {
        let run = &orphan.run;
        let message = match killed {
            0 => bosun_store::HOLDER_GONE.to_string(),
            _ => format!("{}; its leftover processes were killed", bosun_store::HOLDER_GONE),
        };
        engine.hub.emit(run.task_id, run.id, EventKind::status("interrupted", message)).await;
        if let Ok(task) = engine.store.get_task(run.task_id).await {
            engine.publish(&task);
        }
    }
    engine.hub.flush().await;
    Ok(())
}

/// A live run whose agent can be taken back: its holder answers (or its spool is
/// finished), its workspace is there and its profile still exists.
async fn held_run(engine: &Engine, task_id: i64, run_id: i64) -> Option<(Task, Run, AgentProfile)> {
    let holder = engine.config.holder(task_id, run_id, Some(0))?;
    if !tokio::task::spawn_blocking(move || holder.reachable()).await.unwrap_or(false) {
        return None;
    }
    let task = engine.store.get_task(task_id).await.ok()?;
    let run = task.runs.iter().find(|r| r.id == run_id)?.clone();
    if !task.worktree.as_deref().is_some_and(|w| Path::new(w).is_dir()) {
        return None;
    }
    let profiles = Profiles::load(task.repo.as_deref().map(Path::new), &engine.config.user_agents_dir());
    match profiles.route(Some(&run.agent), &[]) {
        // The model it was started with, whatever the profile says now.
        Ok(profile) => {
            let mut profile = profile.clone();
            profile.model = run.model.clone().or(profile.model);
            Some((task, run, profile))
        }
        Err(e) => {
            tracing::warn!(task = task_id, "cannot take the run back: {e}");
            None
        }
    }
}
