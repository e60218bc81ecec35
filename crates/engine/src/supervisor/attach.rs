//! Taking back a run whose agent a previous daemon left running under its holder:
//! the supervisor re-attaches, the driver replays what was already taken in, and the
//! run goes on as if this daemon had started it.

use std::sync::Arc;
use std::time::Duration;

use bosun_agents::{SpawnSpec, runtime};
use bosun_core::{AgentProfile, EventKind, Run, Task, TaskStatus};
use chrono::Utc;
use tokio::sync::mpsc;

use super::{RunCtx, register};
use crate::Engine;
use crate::state::Control;

/// Takes back the live `run` of `task`, whose agent a previous daemon left running
/// under its holder (crash recovery found the holder, or its finished spool).
/// Its budgets (`budgets`) are checked at each usage report, as the run's own were.
pub fn reattach(engine: &Arc<Engine>, task: Task, run: Run, profile: AgentProfile, budgets: Vec<bosun_core::budget::Budget>) {
    let rx = register(engine, &task, &profile);
    tokio::spawn(supervise_attached(engine.clone(), task, run, profile, budgets, rx));
}

/// The supervisor of a run a previous daemon started: it re-attaches to the agent's
/// holder, takes in what the agent printed meanwhile, and goes on as if it had
/// started the run itself.
#[tracing::instrument(name = "run", skip_all, fields(task = task.id, run = run.id))]
async fn supervise_attached(
    engine: Arc<Engine>,
    task: Task,
    run: Run,
    profile: AgentProfile,
    budgets: Vec<bosun_core::budget::Budget>,
    mut ctl: mpsc::UnboundedReceiver<Control>,
) {
    let workdir = task.worktree.clone().map(std::path::PathBuf::from).unwrap_or_default();
    let seen = engine.store.output_seen(run.id).await.unwrap_or(0);
    let mut run_ctx = RunCtx::new(&engine, task, run);
    run_ctx.workdir = Some(workdir.clone());
    run_ctx.budgets = budgets;
    let task_text = format!("{}\n\n{}", run_ctx.task.title, run_ctx.task.body.trim()).trim().to_string();
    // The driver replays the run from its start, so it must start as the run did: one
    // that continued a session resumed it.
    let (resume, prior_cost) = run_ctx.task.session_before(run_ctx.run.id, &profile.name).unzip();
    // The run's own token: its cleanup hook gets it, and its leftovers are found by it.
    let token = engine.store.run_token(run_ctx.run.id).await.unwrap_or_default();
    let spec = SpawnSpec {
        task_id: run_ctx.task.id,
        run_id: run_ctx.run.id,
        workdir: workdir.clone(),
        prompt: profile.prompt(&task_text),
        instructions: profile.instructions.clone(),
        task: task_text,
        prior_cost: prior_cost.unwrap_or(0.0),
        token: token.clone(),
        pass_env: profile.pass_env.clone(),
        env: Vec::new(),
        resume,
        holder: engine.config.holder(run_ctx.task.id, run_ctx.run.id, Some(seen)),
    };
    let proc = match runtime::spawn(&profile, &spec) {
        Ok(p) => p,
        Err(e) => {
            // Whatever is left of the run (its holder answered a moment ago) goes.
            let holder = engine.config.holder(run_ctx.task.id, run_ctx.run.id, None);
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(holder) = holder {
                    holder.end_cgroup();
                }
                if !token.is_empty() {
                    bosun_agents::sweep::kill_all(&[token]);
                }
            })
            .await;
            return run_ctx.fail_before_start(format!("cannot take the agent back after the daemon restarted: {e}")).await;
        }
    };
    // The previous daemon died before it could record the pid.
    if run_ctx.run.pid.is_none() && proc.group.pid() > 0 {
        let pid = i64::from(proc.group.pid());
        if let Err(e) = engine.store.set_run_pid(run_ctx.run.id, pid).await {
            tracing::error!("cannot record the pid: {e}");
        }
        run_ctx.run.pid = Some(pid);
    }
    let pid = run_ctx.run.pid.unwrap_or_default();
    tracing::info!(agent = %profile.name, pid, seen, "run re-attached");
    // The last daemon died after storing the run's final event, before its end: the
    // run ends again from the spool, and its log says neither thing twice.
    run_ctx.final_stored = final_event_stored(&engine, &run_ctx.run).await;
    if !run_ctx.final_stored {
        run_ctx
            .emit(EventKind::status(
                run_ctx.task.status.as_str(),
                format!("the daemon restarted and took `{}` (pid {pid}) back; what it printed meanwhile follows", profile.name),
            ))
            .await;
    }
    // The wall-clock limit counts from the run's start, not from the re-attach.
    let ran = (Utc::now() - run_ctx.run.started_at).to_std().unwrap_or_default();
    let wall = profile.timeout.map(|t| Duration::from_secs(t).saturating_sub(ran));
    run_ctx.follow(proc, &profile, &spec, &workdir, wall, &mut ctl).await;
}

/// Whether the task's last stored event is `run`'s final status (bosun's word that the
/// task settled), which the supervisor stores just before the run's end.
async fn final_event_stored(engine: &Engine, run: &Run) -> bool {
    let Ok(last) = engine.store.last_seq(run.task_id).await else { return false };
    let Ok(events) = engine.store.events(run.task_id, last - 1, 1).await else { return false };
    events.first().is_some_and(|e| {
        e.run_id == run.id
            && e.source == bosun_core::Source::Bosun
            && matches!(&e.kind, EventKind::Status { status, .. } if TaskStatus::parse(status).is_some_and(TaskStatus::is_settled))
    })
}
