//! The dispatcher: one task that decides which queued tasks start, woken only by
//! [`Trigger`]s (no polling).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use bosun_core::deps::{self, DepState};
use bosun_core::schedule::{self, Candidate, Wait, Waiting};
use bosun_core::task::TaskId;
use bosun_core::{AgentProfile, EventKind, Task, TaskEvent, TaskStatus};
use chrono::Utc;
use tokio::sync::mpsc;

use bosun_store::StoreError;

use crate::Engine;
use crate::profiles::Profiles;
use crate::routing::{self, Ask, Decision, Rules};
use crate::supervisor::{self, Spend};
use crate::trigger::Trigger;

/// Why a look at the queue stopped short.
#[derive(Debug, thiserror::Error)]
enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transition(#[from] bosun_core::TransitionError),
}

pub async fn run(engine: Arc<Engine>, mut triggers: mpsc::UnboundedReceiver<Trigger>) {
    while let Some(first) = triggers.recv().await {
        // Many triggers at once (a burst of `add`s) need one pass, not many.
        let mut changed = Vec::new();
        let mut next = Some(first);
        while let Some(t) = next {
            match t {
                Trigger::Shutdown => return,
                Trigger::TaskChanged(id) => changed.push(id),
                Trigger::RunFinished(id) => tracing::debug!(task = id, "dispatch: run finished"),
                Trigger::Startup | Trigger::ConfigChanged => {}
            }
            next = triggers.try_recv().ok();
        }
        changed.sort_unstable();
        changed.dedup();
        for id in changed {
            if let Err(e) = reconcile(&engine, id).await {
                tracing::error!(task = id, "re-evaluating dependencies failed: {e}");
            }
        }
        if let Err(e) = pass(&engine).await {
            tracing::error!("dispatch pass failed: {e}");
        }
    }
}

/// Re-evaluates the dependencies of `id` itself and of every task depending on it:
/// a queued task whose dependency went wrong becomes blocked; a blocked one whose
/// dependencies recovered is queued again. Their own changes trigger the next level.
async fn reconcile(engine: &Engine, id: TaskId) -> Result<(), DispatchError> {
    let mut tasks = vec![id];
    tasks.extend(engine.store.dependents(id).await?);
    for task_id in tasks {
        let task = engine.store.get_task(task_id).await?;
        // (A task blocked by a budget has its dependencies done: the budget is its wait.)
        if !matches!(task.status, TaskStatus::Queued | TaskStatus::Blocked) || task.after.is_empty() || by_budget(&task) {
            continue;
        }
        let mut deps = Vec::with_capacity(task.after.len());
        let mut budget_blocked = Vec::new();
        for dep in &task.after {
            // A dependency blocked by a budget is waited for like a queued one (it has
            // not gone wrong), and said to be blocked.
            let dep = engine.store.get_task(*dep).await?;
            if by_budget(&dep) {
                budget_blocked.push(dep.id);
            }
            deps.push((dep.id, if by_budget(&dep) { TaskStatus::Queued } else { dep.status }));
        }
        let state = deps::dep_state(&deps);
        let (event, reason) = match (task.status, &state) {
            (TaskStatus::Queued, DepState::Blocked { .. }) => (TaskEvent::Blocked, state.reason()),
            (TaskStatus::Blocked, DepState::Ready | DepState::Waiting { .. }) => (TaskEvent::Unblocked, None),
            (TaskStatus::Queued, DepState::Waiting { on, status }) => {
                let status = if budget_blocked.contains(on) { TaskStatus::Blocked } else { *status };
                let wait = Wait::Dependency { task: *on, status };
                say_waits(engine, std::slice::from_ref(&task), &HashMap::from([(task.id, wait)])).await?;
                continue;
            }
            _ => continue,
        };
        match engine.store.transition_task(task.id, task.status, event, reason.as_deref(), Utc::now()).await {
            Ok(t) => {
                tracing::info!(task = t.id, "dependencies: now {}", t.status);
                engine.publish(&t);
            }
            Err(e) => tracing::debug!(task = task.id, "task moved while re-evaluating its dependencies: {e}"),
        }
    }
    Ok(())
}

/// Records what `tasks` wait for where it changed (a task absent from `waits` waits
/// for nothing to be said), and tells the board.
async fn say_waits(engine: &Engine, tasks: &[Task], waits: &HashMap<TaskId, Wait>) -> Result<(), DispatchError> {
    let changed: Vec<(TaskId, Option<Waiting>)> = tasks
        .iter()
        .filter_map(|t| {
            let new = waits.get(&t.id).cloned().map(Waiting::from);
            (new != t.waiting).then_some((t.id, new))
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    for id in engine.store.set_waits(&changed).await? {
        // Not `publish`: a new wait is no reason for another look at the queue.
        engine.hub.task_changed(&engine.store.get_task(id).await?);
    }
    Ok(())
}

/// One look at the queue: route, pick under the limits, launch; then say why the
/// others wait.
async fn pass(engine: &Arc<Engine>) -> Result<(), DispatchError> {
    let queued = engine.store.queued_tasks().await?;
    if queued.is_empty() {
        return Ok(());
    }
    // The global limit is this engine's capacity: its own runs. A profile's limit
    // counts its runs on every node sharing the store, plus this engine's launches
    // that have not reached the store yet.
    let in_store = engine.store.live_runs().await?;
    let (running_total, running_per_profile) = {
        let live = engine.live.lock().unwrap();
        let mut per: HashMap<String, usize> = HashMap::new();
        for run in &in_store {
            *per.entry(run.agent.clone()).or_default() += 1;
        }
        for (task, run) in live.iter() {
            if !in_store.iter().any(|r| r.task_id == *task) {
                *per.entry(run.profile.clone()).or_default() += 1;
            }
        }
        (live.len(), per)
    };
    let mut waits: HashMap<TaskId, Wait> = HashMap::new();
    let mut by_repo: HashMap<Option<String>, (Profiles, Rules)> = HashMap::new();
    let mut chosen_profiles: HashMap<TaskId, AgentProfile> = HashMap::new();
    let mut spends: HashMap<TaskId, Spend> = HashMap::new();
    // What a rule chose besides the profile (model, budget): kept on the task when it
    // starts, so that its retries and replies run the same way.
    let mut by_rule: HashMap<TaskId, (Option<String>, Option<f64>)> = HashMap::new();
    let mut candidates = Vec::new();
    let mut tasks = HashMap::new();
    for task in &queued {
        if engine.live.lock().unwrap().contains_key(&task.id) {
            waits.insert(task.id, Wait::Starting); // launched, not yet marked running
            continue;
        }
        let (profiles, rules) = by_repo.entry(task.repo.clone()).or_insert_with(|| {
            let repo = task.repo.as_deref().map(Path::new);
            let profiles = Profiles::load(repo, &engine.config.user_agents_dir());
            let rules = Rules::load(repo, &engine.config.config_dir, &profiles);
            (profiles, rules)
        });
        match routing::decide(&Ask::of(task), profiles, rules) {
            Ok(Decision::Triage(why)) => {
                tracing::info!(task = task.id, "triage: {why}");
                engine.hub.emit(task.id, 0, EventKind::status(TaskStatus::Triage.as_str(), why.clone())).await;
                engine.hub.flush().await;
                match engine.store.transition_task(task.id, task.status, TaskEvent::Unrouted, Some(&why), Utc::now()).await {
                    Ok(t) => engine.publish(&t),
                    Err(e) => tracing::debug!(task = task.id, "task moved before it could go to triage: {e}"),
                }
            }
            Ok(Decision::Run(routed)) => {
                let profile = routed.profile;
                if routed.rule.is_some() {
                    let model = profile.model.clone().filter(|_| task.model.is_none());
                    by_rule.insert(task.id, (model, routed.budget.filter(|_| task.budget.is_none())));
                }
                candidates.push(Candidate {
                    task_id: task.id,
                    priority: task.priority,
                    profile: profile.name.clone(),
                    profile_limit: profile.max_concurrent,
                });
                spends.insert(task.id, routing::spend_for(engine, task, &profile.name, routed.budget, &rules.budget).await);
                chosen_profiles.insert(task.id, profile);
                tasks.insert(task.id, task.clone());
            }
            Err(why) => {
                let why = why.to_string();
                let next = task.status.apply(TaskEvent::DispatchFailed)?;
                tracing::warn!(task = task.id, "cannot dispatch: {why}");
                // A task-level event (run 0, the task never got a run), stored before
                // the status change like every run's last event.
                engine.hub.emit(task.id, 0, EventKind::status(next.as_str(), why.clone())).await;
                engine.hub.flush().await;
                match engine.store.transition_task(task.id, task.status, TaskEvent::DispatchFailed, Some(&why), Utc::now()).await {
                    Ok(t) => engine.publish(&t),
                    Err(e) => tracing::debug!(task = task.id, "task moved before it could be failed: {e}"),
                }
            }
        }
    }
    let candidates = within_budgets(engine, candidates, &spends, &mut waits).await?;
    let picked = schedule::pick(candidates, running_total, &running_per_profile, engine.config.max_concurrent);
    // Those starting say so before their supervisor can move them on; then the rest.
    let starting: Vec<Task> = picked.start.iter().map(|c| tasks.remove(&c.task_id).expect("candidate comes from tasks")).collect();
    let (unblocking, plain): (Vec<Task>, Vec<Task>) = starting.into_iter().partition(|t| t.status == TaskStatus::Blocked);
    say_waits(engine, &plain, &plain.iter().map(|t| (t.id, Wait::Starting)).collect()).await?;
    let mut starting = plain;
    for task in unblocking {
        // Its reservation fits now: queued again (saying it starts), then started.
        if let Some(t) = rewait(engine, &task, TaskEvent::Unblocked, Wait::Starting).await {
            starting.push(t);
        }
    }
    for task in starting {
        let profile = chosen_profiles.remove(&task.id).expect("candidate has a profile");
        if let Some((model, budget)) = by_rule.remove(&task.id) {
            keep_rule_choices(engine, task.id, model.as_deref(), budget).await;
        }
        let spend = spends.remove(&task.id).unwrap_or_default();
        supervisor::launch(engine, task, profile, spend);
    }
    waits.extend(picked.wait);
    let mut rest = Vec::new();
    for task in queued.into_iter().filter(|t| !picked.start.iter().any(|c| c.task_id == t.id)) {
        match (task.status, waits.remove(&task.id)) {
            // A budget's wait is `blocked`, naming the budget; any other is `queued`.
            (TaskStatus::Queued, Some(wait @ Wait::Budget { .. })) => {
                rewait(engine, &task, TaskEvent::Blocked, wait).await;
            }
            (TaskStatus::Blocked, Some(wait)) if !matches!(wait, Wait::Budget { .. }) => {
                rewait(engine, &task, TaskEvent::Unblocked, wait).await;
            }
            // Moved meanwhile (to triage, failed), or its start is being undone: its
            // budget wait is not cleared.
            (TaskStatus::Blocked, None) => {}
            (_, wait) => {
                if let Some(wait) = wait {
                    waits.insert(task.id, wait);
                }
                rest.push(task);
            }
        }
    }
    say_waits(engine, &rest, &waits).await
}

/// Whether `task` is blocked by a budget (not by a dependency).
fn by_budget(task: &Task) -> bool {
    task.status == TaskStatus::Blocked && task.waiting.as_ref().is_some_and(|w| matches!(w.on, Wait::Budget { .. }))
}

/// Moves a task into or out of `blocked` by a budget (`event`: Blocked / Unblocked),
/// recording what it now waits for with the move; a task blocked says why in its
/// timeline and its reason. Not `publish`: this pass has already looked at the queue.
/// None when the task moved meanwhile.
pub(crate) async fn rewait(engine: &Engine, task: &Task, event: TaskEvent, wait: Wait) -> Option<Task> {
    let waiting = Waiting::from(wait);
    let reason = (event == TaskEvent::Blocked).then(|| waiting.text.clone());
    if let Some(reason) = &reason {
        tracing::info!(task = task.id, "{reason}");
        engine.hub.emit(task.id, 0, EventKind::status(TaskStatus::Blocked.as_str(), reason.clone())).await;
        engine.hub.flush().await;
    }
    match engine.store.transition_waiting(task.id, task.status, event, reason.as_deref(), Some(&waiting), Utc::now()).await {
        Ok(t) => {
            engine.hub.task_changed(&t);
            Some(t)
        }
        Err(e) => {
            tracing::debug!(task = task.id, "task moved before its budget wait could change: {e}");
            None
        }
    }
}

/// The candidates whose run's reservation fits every budget it falls under, highest
/// priority first (then oldest); the others wait, naming the budget. What this pass
/// lets start counts against the later ones. (The store checks again, atomically, as
/// each run starts: this look only spares runs that could not start.)
async fn within_budgets(
    engine: &Engine,
    mut candidates: Vec<Candidate>,
    spends: &HashMap<TaskId, Spend>,
    waits: &mut HashMap<TaskId, Wait>,
) -> Result<Vec<Candidate>, DispatchError> {
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.task_id.cmp(&b.task_id)));
    let mut taken: HashMap<String, f64> = HashMap::new();
    let mut fit = Vec::with_capacity(candidates.len());
    for c in candidates {
        let Some(spend) = spends.get(&c.task_id).filter(|s| !s.budgets.is_empty()) else {
            fit.push(c);
            continue;
        };
        let mut states = engine.store.ledger().budget_states(&spend.budgets).await?;
        for s in &mut states {
            s.reserved += taken.get(&s.budget.name).copied().unwrap_or(0.0);
        }
        let short = states.iter().find(|s| !s.fits(spend.reserve));
        match short {
            Some(s) => {
                waits.insert(c.task_id, Wait::Budget { budget: s.budget.name.clone(), detail: s.describe() });
            }
            None => {
                for s in &states {
                    *taken.entry(s.budget.name.clone()).or_default() += spend.reserve;
                }
                fit.push(c);
            }
        }
    }
    Ok(fit)
}

/// Records on the task the model and budget its rule chose (what it had not chosen
/// itself), before its run starts.
async fn keep_rule_choices(engine: &Engine, id: TaskId, model: Option<&str>, budget: Option<f64>) {
    if let Some(model) = model
        && let Err(e) = engine.store.set_task_model(id, Some(model), Utc::now()).await
    {
        tracing::warn!(task = id, "cannot record the model its rule chose: {e}");
    }
    if let Some(budget) = budget
        && let Err(e) = engine.store.ledger().set_task_budget(id, Some(budget), Utc::now()).await
    {
        tracing::warn!(task = id, "cannot record the budget its rule gave it: {e}");
    }
}
