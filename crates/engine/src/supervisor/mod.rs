//! One supervisor task per run: it starts the agent, owns its process group, turns
//! its output into stored events, obeys stop requests, and when the agent is gone
//! commits leftovers and records how the run ended.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bosun_agents::{AgentProcess, ExitInfo, SpawnSpec, runtime};
use bosun_api::Delivery;
use bosun_core::task::TaskId;
use bosun_core::{AgentProfile, EventKind, OutputStream, Run, Runtime, Source, Task};
use bosun_git::Unfinished;
use bosun_store::StoreError;
use chrono::Utc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::Engine;
use crate::state::{Control, LiveRun};
use crate::trigger::Trigger;
use crate::workspace;

mod attach;
mod budget;
mod end;
mod events;

pub use crate::routing::Spend;
pub use attach::reattach;
use end::failure_reason;

/// Lines of stderr kept to explain a failure.
const STDERR_TAIL: usize = 10;
/// How long a task whose run the store could not start waits before the next try.
const START_RETRY: Duration = Duration::from_secs(2);
/// What a resumed session is told when nobody said anything new (a retry after the
/// daemon cut its run off).
const CONTINUE: &str = "Your previous run was cut off before it finished (bosun's daemon stopped). Continue the task where you left off.";
/// How stale the raw run log may get while an agent prints.
const LOG_FLUSH: Duration = Duration::from_millis(200);

/// How the supervisor came to end the run.
#[derive(Clone, PartialEq)]
enum Ending {
    Natural,
    Stopped,
    Shutdown,
    /// The daemon left the agent running with its holder, for the next daemon.
    Detached,
    /// The profile's wall-clock or inactivity limit.
    TimedOut(String),
    /// The runtime reported a failure.
    Failed(String),
    /// Its spend crossed a budget: why, and how to go on.
    OverBudget(String),
}

/// Registers a slot for `task` and starts its supervisor. Called by the dispatcher,
/// with the profile as the task runs it (its `model` the one chosen for the task).
pub fn launch(engine: &Arc<Engine>, task: Task, profile: AgentProfile, spend: Spend) {
    let rx = register(engine, &task, &profile);
    tokio::spawn(supervise(engine.clone(), task, profile, spend, rx));
}

/// The engine's handle on a run about to be supervised: its slot and control channel.
fn register(engine: &Engine, task: &Task, profile: &AgentProfile) -> mpsc::UnboundedReceiver<Control> {
    let (ctl, rx) = mpsc::unbounded_channel();
    let deaf = match profile.runtime {
        Runtime::Command { interactive: false, .. } => Some(format!(
            "its agent `{}` is a command that reads its prompt once and takes no messages while it runs (make the profile `interactive: true` to steer it); `bosun stop` it and `bosun retry` with the message in the task, or wait and `bosun reply`",
            profile.name
        )),
        _ => None,
    };
    engine.live.lock().unwrap().insert(task.id, LiveRun { profile: profile.name.clone(), deaf, ctl });
    rx
}

/// Asks the run of `task_id` to stop and waits until it has. False if no run is live.
pub async fn stop(engine: &Engine, task_id: TaskId) -> bool {
    let (ack, done) = oneshot::channel();
    engine.control(task_id, Control::Stop(ack)) && done.await.is_ok()
}

/// Tells every live run the daemon is going (held agents are let go of, the others
/// stopped: their tasks become interrupted) and waits for them.
pub async fn shutdown_all(engine: &Engine) {
    let deadline = tokio::time::Instant::now() + engine.config.stop_grace + Duration::from_secs(10);
    loop {
        let ended = engine.run_ended.notified();
        {
            let live = engine.live.lock().unwrap();
            if live.is_empty() {
                return;
            }
            for run in live.values() {
                let _ = run.ctl.send(Control::Shutdown);
            }
        }
        if tokio::time::timeout_at(deadline, ended).await.is_err() {
            tracing::error!("some runs did not stop in time");
            return;
        }
    }
}

#[tracing::instrument(name = "run", skip_all, fields(task = task.id, run = tracing::field::Empty))]
async fn supervise(engine: Arc<Engine>, task: Task, profile: AgentProfile, spend: Spend, mut ctl: mpsc::UnboundedReceiver<Control>) {
    let task_id = task.id;
    let token = uuid::Uuid::new_v4().to_string();
    // A first run's workspace is recorded with the run's start, before it is made.
    let planned = workspace::planned(&engine, &task);
    let start = bosun_store::RunStart {
        agent: &profile.name,
        token: &token,
        node: &engine.config.node,
        model: profile.model.as_deref(),
        reserve: (!spend.budgets.is_empty()).then(|| (spend.reserve, spend.budgets.clone())),
        workspace: planned.as_ref().map(|(branch, dir)| bosun_store::RunWorkspace { branch: branch.as_deref(), worktree: dir }),
    };
    let (task, run) = match engine.store.start_run_with(task_id, &start, Utc::now()).await {
        Ok(started) => started,
        // Its reservation does not fit: it waits, and is tried again when the
        // dispatcher next looks (a run ending frees reservations).
        Err(StoreError::OverBudget(state)) => return budget::wait_for_budget(&engine, task, &state).await,
        Err(e) => {
            // Stopped (or otherwise moved) between the dispatcher's read and now: fine.
            // Anything else is the store failing: wait before the slot frees (which
            // wakes the dispatcher), or it would retry this task in a tight loop.
            if !matches!(e, StoreError::StatusChanged { .. }) {
                tracing::error!("cannot start a run, retrying in {}s: {e}", START_RETRY.as_secs());
                tokio::time::sleep(START_RETRY).await;
            }
            release(&engine, task_id);
            return;
        }
    };
    tracing::Span::current().record("run", run.id);
    tracing::info!(agent = %profile.name, "run starting");
    crate::crash::point("run-stored");
    engine.publish(&task);
    // (The run's start recorded its agent as the task's.) The profile as loaded is kept
    // for the record, off the start's path.
    let (store, loaded) = (engine.store.clone(), profile.clone());
    tokio::spawn(async move {
        if let Err(e) = store.record_profile(&loaded, Utc::now()).await {
            tracing::warn!("cannot record the profile: {e}");
        }
    });

    let mut run_ctx = RunCtx::new(&engine, task, run);
    run_ctx.budgets = spend.budgets;
    // A warm worktree from the repo's pool if one is ready, else made now.
    let fresh = planned.is_some();
    let prepared = match crate::pool::take(&engine, &run_ctx.task, fresh).await {
        Some(warm) => Ok(warm),
        None => workspace::prepare(&engine, &run_ctx.task, fresh).await,
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(why) => return run_ctx.fail_before_start(format!("cannot prepare the workspace: {why}")).await,
    };
    crate::crash::point("workspace-made");
    let workdir = prepared.dir;
    run_ctx.workdir = Some(workdir.clone());
    // As recorded by `prepare` (a first run's task was read before).
    run_ctx.task.worktree = Some(workdir.to_string_lossy().into_owned());
    run_ctx.task.branch = prepared.branch;
    // A scratch workspace as the run finds it: what differs at its end is its work.
    crate::deliverables::before_run(&engine, &run_ctx.task, run_ctx.run.id, &workdir).await;
    // A run that continues the agent's session (`Task::resume`: a reply, a retry after
    // the daemon cut the last run off) resumes it with the new messages alone;
    // otherwise the task's prompt, plus messages sent while it waited. They are marked
    // delivered only once the agent has them (kept for a retry if the start fails).
    let inbox = engine.store.undelivered_messages(task_id).await.unwrap_or_default();
    let messages: Vec<String> = inbox.iter().map(|m| m.text.clone()).collect();
    // No agent starts in a worktree a rebase or merge left half-way, unless the run is
    // to resolve it (`reply --resolve`); then it is told which files conflict.
    // (A worktree this run just made has nothing unfinished: no git asked.)
    let checked = if prepared.created { Ok(None) } else { workspace::unfinished(&run_ctx.task, &workdir).await };
    let unfinished = match checked {
        Ok(left) => left,
        Err(e) => return run_ctx.fail_before_start(format!("cannot check the worktree: {e}")).await,
    };
    if let Some(left) = &unfinished {
        if !inbox.iter().any(|m| m.resolve) {
            let why = format!("the worktree is {}: bosun starts no agent in it; {}", left.describe(), left.how_to_finish());
            return run_ctx.fail_before_start(why).await;
        }
        run_ctx.resolving = left.conflicted.clone();
    }
    let session = run_ctx.task.session_before(run_ctx.run.id, &profile.name);
    let mut task_text = format!("{}\n\n{}", run_ctx.task.title, run_ctx.task.body.trim()).trim().to_string();
    if !messages.is_empty() {
        let joined = messages.join("\n\n");
        task_text = if session.is_some() { joined } else { format!("{task_text}\n\n# Messages from the user\n\n{joined}") };
    } else if session.is_some() {
        task_text = CONTINUE.to_string();
    }
    if let Some(left) = &unfinished {
        task_text.push_str(&resolve_brief(left));
    }
    let mut env: Vec<(String, String)> = agent_path().into_iter().map(|p| ("PATH".to_string(), p)).collect();
    // Agents may call bosun back (`bosun add`, `bosun say`): tell them where it is.
    env.push(("BOSUN_URL".to_string(), engine.config.public_url.clone()));
    env.extend(profile.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut spec = SpawnSpec {
        task_id,
        run_id: run_ctx.run.id,
        workdir: workdir.clone(),
        prompt: profile.prompt(&task_text),
        instructions: profile.instructions.clone(),
        task: task_text,
        prior_cost: session.as_ref().map(|(_, cost)| *cost).unwrap_or(0.0),
        token,
        pass_env: profile.pass_env.clone(),
        env,
        resume: session.map(|(id, _)| id),
        holder: engine.config.holder(task_id, run_ctx.run.id, None),
    };
    // A new worktree runs the repo's setup script first, streamed like agent output.
    // Hooks come from the user's checkout, never from the worktree (see hook_script).
    if prepared.created
        && !prepared.setup_ran
        && let Some(setup) = run_ctx.task.repo.as_deref().and_then(|repo| workspace::hook_script(Path::new(repo), "setup"))
    {
        match run_ctx.hook(&setup, &spec, &mut ctl).await {
            Hook::Succeeded => {}
            Hook::Failed(why) => return run_ctx.fail_before_start(format!("setup failed: {why}")).await,
            Hook::Ended(ending) => return run_ctx.finish(&workdir, ending, None, &VecDeque::new()).await,
        }
    }
    // Messages said while the setup hook ran go with the prompt.
    for text in std::mem::take(&mut run_ctx.early) {
        spec_task_append(&mut spec, &text);
    }
    // A stop or shutdown that arrived while the workspace was being made.
    while let Ok(c) = ctl.try_recv() {
        match run_ctx.take_control(c) {
            Ok(ending) => return run_ctx.finish(&workdir, ending, None, &VecDeque::new()).await,
            Err(Control::Say { text, from, delivered }) => {
                let kept = run_ctx.keep(&text, from).await;
                spec_task_append(&mut spec, &text);
                let _ = delivered.send(kept.then_some(Delivery::AtStart));
            }
            Err(_) => {}
        }
    }
    let proc = match runtime::spawn(&profile, &spec) {
        Ok(p) => p,
        Err(e) => return run_ctx.fail_before_start(e.to_string()).await,
    };
    crate::crash::point("agent-spawned");
    let pid = proc.group.pid();
    // The agent has its prompt: every message kept so far is in it (those read at
    // the start, and those said while the workspace or setup hook was being made).
    if let Err(e) = engine.store.agent_started(run_ctx.run.id, pid as i64, Utc::now()).await {
        tracing::error!("cannot record the pid and the messages delivered: {e}");
    }
    run_ctx.run.pid = Some(pid as i64);
    run_ctx.emit(EventKind::status("running", format!("started `{}` (pid {pid}) in {}", profile.name, workdir.display()))).await;
    // The agent runs: now the repo's pool may be topped up (off the start's path).
    if let (Some(repo), Some(base)) = (run_ctx.task.repo.as_deref(), run_ctx.task.base.as_deref()) {
        crate::pool::refill(&engine, repo, base);
    }
    let wall = profile.timeout.map(Duration::from_secs);
    run_ctx.follow(proc, &profile, &spec, &workdir, wall, &mut ctl).await;
}

impl RunCtx<'_> {
    /// Follows a started (or re-attached) agent to the end of its run: watched, its
    /// cleanup hook run, the run finished — or, when the daemon leaves it running for
    /// the next one, let go of.
    async fn follow(
        mut self,
        proc: AgentProcess,
        profile: &AgentProfile,
        spec: &SpawnSpec,
        workdir: &Path,
        wall: Option<Duration>,
        ctl: &mut mpsc::UnboundedReceiver<Control>,
    ) {
        let limits = Limits { wall, idle: profile.idle_timeout.map(Duration::from_secs) };
        self.profile = Some(profile.clone());
        self.held = spec.holder.is_some();
        let (ending, exit, tail) = self.watch_with(proc, ctl, limits).await;
        if ending == Ending::Detached {
            return self.detach().await;
        }
        // (A run whose final event was stored already ran its cleanup hook.)
        if ending != Ending::Shutdown
            && !self.final_stored
            && let Some(cleanup) = self.task.repo.as_deref().and_then(|repo| workspace::hook_script(Path::new(repo), "cleanup"))
            && let Hook::Failed(why) = self.hook(&cleanup, spec, ctl).await
        {
            self.emit(EventKind::Error { message: format!("cleanup failed: {why}") }).await;
        }
        self.finish(workdir, ending, exit, &tail).await;
    }
}

/// How a repo hook script (setup, cleanup) went.
enum Hook {
    Succeeded,
    Failed(String),
    /// Stopped by the user or the daemon's shutdown while it ran.
    Ended(Ending),
}

struct RunCtx<'a> {
    engine: &'a Arc<Engine>,
    task: Task,
    run: Run,
    stop_waiters: Vec<oneshot::Sender<()>>,
    /// The agent's profile, once the agent (not a hook) runs: its approval policy.
    profile: Option<AgentProfile>,
    workdir: Option<std::path::PathBuf>,
    /// A human interrupted the turn: however the agent then ends, the run was stopped.
    interrupted: bool,
    /// Messages said while a setup hook ran, for the agent's prompt.
    early: Vec<String>,
    /// The files a resolve run (`reply --resolve`) is to resolve: committed only once
    /// free of conflict markers.
    resolving: Vec<String>,
    /// The agent runs under a holder: it can outlive this daemon.
    held: bool,
    /// The run's final status event is already stored (a daemon died between it and
    /// the run's end): the end is written without saying it twice.
    final_stored: bool,
    /// When the agent printed the output being handled, if not just now (a line its
    /// holder kept while no daemon listened): the time its events carry.
    printed_at: Option<chrono::DateTime<Utc>>,
    /// The budgets the run falls under, checked at each usage report.
    budgets: Vec<bosun_core::budget::Budget>,
    /// Budgets already warned about (80 %), by name.
    warned: std::collections::HashSet<String>,
    /// What the run handed over, recorded with its end.
    deliverables: Vec<bosun_core::deliverable::NewDeliverable>,
    /// What the run was charged at the price table's figure since a report carrying
    /// the CLI's own cost, which stands for them ([`RunCtx::charged`]).
    estimated: f64,
}

/// A run's time limits.
#[derive(Clone, Copy, Default)]
struct Limits {
    wall: Option<Duration>,
    idle: Option<Duration>,
}

impl<'a> RunCtx<'a> {
    /// The supervisor's state for `run` of `task`, before anything is known of its agent.
    fn new(engine: &'a Arc<Engine>, task: Task, run: Run) -> RunCtx<'a> {
        RunCtx {
            engine,
            task,
            run,
            stop_waiters: Vec::new(),
            profile: None,
            workdir: None,
            interrupted: false,
            early: Vec::new(),
            resolving: Vec::new(),
            held: false,
            final_stored: false,
            printed_at: None,
            budgets: Vec::new(),
            warned: Default::default(),
            deliverables: Vec::new(),
            estimated: 0.0,
        }
    }
}

impl RunCtx<'_> {
    /// Logs one of bosun's own events.
    async fn emit(&self, kind: EventKind) {
        self.engine.hub.emit(self.task.id, self.run.id, kind).await;
    }

    /// A message for an agent that has not started yet: kept in the task's inbox (so a
    /// start that fails leaves it for the next run) and logged. False if it could not
    /// be kept.
    async fn keep(&self, text: &str, from: Option<String>) -> bool {
        if let Err(e) = self.engine.store.queue_message(self.task.id, text, Utc::now()).await {
            tracing::error!("cannot keep a message for the agent: {e}");
            return false;
        }
        self.said(text, from).await;
        true
    }

    /// Logs a human's message to the agent, as theirs.
    async fn said(&self, text: &str, from: Option<String>) {
        let source = Source::human(from.as_deref());
        let event = EventKind::Message { text: text.to_string(), role: Some("user".into()), from };
        self.engine.hub.emit_as(self.task.id, self.run.id, source, event).await;
    }

    /// Logs what the agent (or a repo hook) produced: never trusted to speak for
    /// bosun or a human. Terminal colour codes are taken out of its output lines
    /// (the raw run log keeps them).
    async fn emit_agent(&self, kind: EventKind) {
        let kind = match kind {
            EventKind::Output { stream, line } if line.contains('\x1b') => {
                EventKind::Output { stream, line: String::from_utf8_lossy(&strip_ansi_escapes::strip(&line)).into_owned() }
            }
            other => other,
        };
        self.engine.hub.emit_at(self.task.id, self.run.id, Source::Agent, kind, self.printed_at).await;
    }

    /// Runs a repo hook script in the workspace, its output going to the task's log.
    async fn hook(&mut self, argv: &[String], spec: &SpawnSpec, ctl: &mut mpsc::UnboundedReceiver<Control>) -> Hook {
        let name = argv.last().cloned().unwrap_or_default();
        self.emit(EventKind::status("hook", format!("running {name}"))).await;
        // Hooks are the daemon's own children: they do not outlive it.
        let hook_spec = SpawnSpec { prompt: String::new(), holder: None, ..spec.clone() };
        let proc = match runtime::command::spawn(argv, false, &hook_spec) {
            Ok(p) => p,
            Err(e) => return Hook::Failed(e.to_string()),
        };
        match self.watch_with(proc, ctl, Limits::default()).await {
            (Ending::Natural, Some(exit), _) if exit.success() => Hook::Succeeded,
            (Ending::Natural, Some(exit), tail) => Hook::Failed(format!("{name}: {}", failure_reason(&exit, &tail))),
            (Ending::Natural, None, _) => Hook::Failed(format!("{name} vanished")),
            (ending, _, _) => Hook::Ended(ending),
        }
    }

    /// A stop or shutdown ends the run; anything else is for a running agent.
    fn take_control(&mut self, c: Control) -> Result<Ending, Control> {
        match c {
            Control::Stop(ack) => {
                self.stop_waiters.push(ack);
                Ok(Ending::Stopped)
            }
            Control::Shutdown => Ok(Ending::Shutdown),
            other => Err(other),
        }
    }

    /// Follows the agent until it and its whole process group are gone, passing
    /// human messages and answers to it and enforcing the time limits.
    async fn watch_with(
        &mut self,
        mut proc: AgentProcess,
        ctl: &mut mpsc::UnboundedReceiver<Control>,
        limits: Limits,
    ) -> (Ending, Option<ExitInfo>, VecDeque<String>) {
        let grace = self.engine.config.stop_grace;
        let log_path = self.engine.config.run_log(self.task.id, self.run.id);
        let mut log = open_log(&log_path).await;
        let mut tail = VecDeque::with_capacity(STDERR_TAIL);
        let mut ending = Ending::Natural;
        let mut output_open = true;
        let mut exited = false;
        let group = proc.group.clone();
        let far = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86400);
        let wall_deadline = limits.wall.map(|d| tokio::time::Instant::now() + d).unwrap_or(far);
        let mut idle_deadline = limits.idle.map(|d| tokio::time::Instant::now() + d).unwrap_or(far);
        let mut flush_at: Option<tokio::time::Instant> = None;
        // Events that cannot be stored end the run: nobody could see what it does.
        let mut failures = self.engine.hub.subscribe_failures();
        let mut failures_open = true;
        let unstored = |why: &str| Ending::Failed(format!("bosun cannot store this run's events ({why}); the agent was stopped"));
        let mut end_with_first = self.engine.hub.storage_failure(self.run.id).map(|why| unstored(&why));
        while output_open || !exited {
            let mut end_with = end_with_first.take();
            tokio::select! {
                failure = failures.recv(), if failures_open && ending == Ending::Natural => match failure {
                    Ok((run, why)) if run == self.run.id => end_with = Some(unstored(&why)),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        end_with = self.engine.hub.storage_failure(self.run.id).map(|why| unstored(&why));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => failures_open = false,
                },
                out = proc.output.recv(), if output_open => match out {
                    Some(out) => {
                        if let Some(idle) = limits.idle {
                            idle_deadline = tokio::time::Instant::now() + idle;
                        }
                        if let (Some(log), Some(raw)) = (log.as_mut(), out.raw.as_ref()) {
                            let prefix = if out.stream == OutputStream::Stderr { "[stderr] " } else { "" };
                            let _ = log.write_all(format!("{prefix}{raw}\n").as_bytes()).await;
                            // Flushed on a timer, not per line: each flush is a trip to
                            // the blocking pool.
                            if flush_at.is_none() {
                                flush_at = Some(tokio::time::Instant::now() + LOG_FLUSH);
                            }
                        }
                        if out.stream == OutputStream::Stderr
                            && let Some(raw) = out.raw {
                                if tail.len() == STDERR_TAIL {
                                    tail.pop_front();
                                }
                                tail.push_back(raw);
                            }
                        self.printed_at = out.printed_at.and_then(chrono::DateTime::from_timestamp_millis);
                        for event in out.events {
                            // An absurd usage report is not counted: kept as an error saying why.
                            if let Some(Err(why)) = event.usage().map(|u| u.check()) {
                                self.emit(EventKind::Error { message: format!("bosun ignored a usage report from the agent: {why}") }).await;
                                continue;
                            }
                            match self.charged(&event, out.line) {
                                // The cost bosun charges is bosun's word, not the agent's.
                                Some((charged, charge)) => {
                                    self.engine.hub.emit_charged(self.task.id, self.run.id, Source::Bosun, charged, self.printed_at, Some(charge)).await;
                                    if let Some(why) = self.check_budgets().await && ending == Ending::Natural {
                                        end_with = Some(Ending::OverBudget(why));
                                    }
                                }
                                None => self.on_event(event, &proc).await,
                            }
                        }
                        // A daemon taking the run back starts after this line.
                        if let Some(line) = out.line.filter(|_| self.held) {
                            self.engine.hub.seen(self.task.id, self.run.id, line + 1).await;
                        }
                    }
                    None => output_open = false,
                },
                _ = tokio::time::sleep_until(flush_at.unwrap_or(far)), if flush_at.is_some() => {
                    flush_at = None;
                    if let Some(log) = log.as_mut() {
                        let _ = log.flush().await;
                    }
                }
                _ = group.wait(), if !exited => {
                    exited = true;
                    // Whatever the agent left running in its group goes too.
                    let g = group.clone();
                    tokio::spawn(async move { g.reap(grace).await });
                }
                Some(c) = ctl.recv() => match self.take_control(c) {
                    Ok(this) => end_with = Some(this),
                    Err(other) => self.deliver(other, &proc).await,
                },
                _ = tokio::time::sleep_until(wall_deadline), if ending == Ending::Natural && !exited => {
                    // The profile's figure: a re-attached run's wall limit is what was left of it.
                    let limit = self.profile.as_ref().and_then(|p| p.timeout).unwrap_or(limits.wall.unwrap_or_default().as_secs());
                    end_with = Some(Ending::TimedOut(format!("timed out after {limit}s (the profile's timeout)")));
                }
                _ = tokio::time::sleep_until(idle_deadline), if ending == Ending::Natural && !exited => {
                    end_with = Some(Ending::TimedOut(format!("no output for {}s (the profile's idle_timeout)", limits.idle.unwrap_or_default().as_secs())));
                }
            }
            if let Some(this) = end_with
                && ending == Ending::Natural
            {
                // The agent stays with its holder for the next daemon.
                if this == Ending::Shutdown && self.held && self.engine.config.agents_outlive_daemon() {
                    group.detach();
                    ending = Ending::Detached;
                    break;
                }
                ending = this;
                let g = group.clone();
                tokio::spawn(async move { g.terminate(grace).await });
            }
        }
        if let Some(mut log) = log {
            let _ = log.flush().await;
        }
        // The runtime itself said the run failed (its process may still exit 0).
        if ending == Ending::Natural
            && let Some(reason) = proc.failure.lock().unwrap().take()
        {
            ending = Ending::Failed(reason);
        }
        (ending, group.exit_info(), tail)
    }
}

/// What a resolve run's agent is told about the worktree it starts in.
fn resolve_brief(left: &Unfinished) -> String {
    let files = left.conflicted.iter().map(|f| format!("- {f}\n")).collect::<String>();
    // With a rebase or merge in progress, it is to be continued; with none (unmerged
    // paths alone), resolving and adding the files is the whole job.
    let (state, finish) = match left.operation {
        Some(op) => (format!("is mid-{op}"), format!(", then run `GIT_EDITOR=true git {op} --continue` until the {op} is done")),
        None => ("has unmerged files".to_string(), String::new()),
    };
    format!(
        "\n\n# Conflicts to resolve\n\nThis worktree {state}, and these files have conflicts:\n\n{files}\n\
         Resolve each one (keep what both sides meant, leave no conflict markers) and `git add` it{finish}. \
         bosun commits nothing while a file still holds conflict markers."
    )
}

fn spec_task_append(spec: &mut SpawnSpec, text: &str) {
    for prompt in [&mut spec.task, &mut spec.prompt] {
        prompt.push_str("\n\n");
        prompt.push_str(text);
    }
}

/// The daemon's PATH with bosun's own directory appended, so agents can call `bosun`
/// (and the bundled `bosun-fake-agent`) wherever bosun was installed.
fn agent_path() -> Option<String> {
    let exe_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<std::path::PathBuf> = std::env::split_paths(&path).collect();
    if !dirs.contains(&exe_dir) {
        dirs.push(exe_dir);
    }
    std::env::join_paths(dirs).ok()?.into_string().ok()
}

/// Frees the task's slot and wakes the dispatcher.
fn release(engine: &Engine, task_id: TaskId) {
    engine.live.lock().unwrap().remove(&task_id);
    engine.run_ended.notify_waiters();
    engine.trigger(Trigger::RunFinished(task_id));
}

async fn open_log(path: &Path) -> Option<tokio::io::BufWriter<tokio::fs::File>> {
    if let Some(dir) = path.parent() {
        let _ = tokio::fs::create_dir_all(dir).await;
    }
    match tokio::fs::OpenOptions::new().create(true).append(true).open(path).await {
        Ok(f) => Some(tokio::io::BufWriter::new(f)),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot open the run log: {e}");
            None
        }
    }
}
