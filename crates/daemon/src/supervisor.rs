//! One supervisor task per run: it starts the agent, owns its process group, turns
//! its output into stored events, obeys stop requests, and when the agent is gone
//! commits leftovers and records how the run ended.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bosun_agents::{AgentProcess, ExitInfo, SpawnSpec, runtime};
use bosun_core::task::TaskId;
use bosun_core::{AgentProfile, EventKind, OutputStream, Run, RunStatus, Task, TaskStatus};
use bosun_store::{RunEnd, StoreError};
use chrono::Utc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::dispatch::Trigger;
use crate::{Daemon, workspace};

/// Lines of stderr kept to explain a failure.
const STDERR_TAIL: usize = 10;

/// The daemon's handle on a live run (held in `Daemon::live`, keyed by task).
pub struct RunControl {
    pub profile: String,
    ctl: mpsc::UnboundedSender<Control>,
}

enum Control {
    /// A user asked to stop; answered once the run is finished and stored.
    Stop(oneshot::Sender<()>),
    /// The daemon is shutting down.
    Shutdown,
}

/// How the supervisor came to end the run.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Natural,
    Stopped,
    Shutdown,
}

impl RunControl {
    /// Registers a slot for `task` and starts its supervisor. Called by the dispatcher.
    pub fn launch(daemon: &Arc<Daemon>, task: Task, profile: AgentProfile) {
        let (ctl, rx) = mpsc::unbounded_channel();
        daemon.live.lock().unwrap().insert(task.id, RunControl { profile: profile.name.clone(), ctl });
        tokio::spawn(supervise(daemon.clone(), task, profile, rx));
    }
}

/// Asks the run of `task_id` to stop and waits until it has. False if no run is live.
pub async fn stop(daemon: &Daemon, task_id: TaskId) -> bool {
    let (ack, done) = oneshot::channel();
    let sent = match daemon.live.lock().unwrap().get(&task_id) {
        Some(rc) => rc.ctl.send(Control::Stop(ack)).is_ok(),
        None => false,
    };
    sent && done.await.is_ok()
}

/// Stops every live run (their tasks become interrupted) and waits for them.
pub async fn shutdown_all(daemon: &Daemon) {
    let deadline = tokio::time::Instant::now() + daemon.config.stop_grace + Duration::from_secs(10);
    loop {
        let ended = daemon.run_ended.notified();
        {
            let live = daemon.live.lock().unwrap();
            if live.is_empty() {
                return;
            }
            for rc in live.values() {
                let _ = rc.ctl.send(Control::Shutdown);
            }
        }
        if tokio::time::timeout_at(deadline, ended).await.is_err() {
            tracing::error!("some runs did not stop in time");
            return;
        }
    }
}

async fn supervise(daemon: Arc<Daemon>, task: Task, profile: AgentProfile, mut ctl: mpsc::UnboundedReceiver<Control>) {
    let task_id = task.id;
    let token = uuid::Uuid::new_v4().to_string();
    let (task, run) = match daemon.store.start_run(task_id, &profile.name, &token, Utc::now()).await {
        Ok(started) => started,
        Err(e) => {
            // Stopped (or otherwise moved) between the dispatcher's read and now.
            if !matches!(e, StoreError::StatusChanged { .. }) {
                tracing::error!(task_id, "cannot start a run: {e}");
            }
            release(&daemon, task_id);
            return;
        }
    };
    tracing::info!(task = task_id, run = run.id, agent = %profile.name, "run starting");
    daemon.publish(&task);
    if task.agent.as_deref() != Some(profile.name.as_str()) {
        if let Err(e) = daemon.store.set_task_agent(task_id, &profile.name, Utc::now()).await {
            tracing::warn!(task_id, "cannot record the agent: {e}");
        }
    }
    if let Err(e) = daemon.store.record_profile(&profile, Utc::now()).await {
        tracing::warn!(task_id, "cannot record the profile: {e}");
    }

    let mut run_ctx = RunCtx { daemon: &daemon, task, run, stop_waiters: Vec::new() };
    let prepared = match workspace::prepare(&daemon, &run_ctx.task).await {
        Ok(p) => p,
        Err(why) => return run_ctx.fail_before_start(format!("cannot prepare the workspace: {why}")).await,
    };
    let workdir = prepared.dir;
    let spec = SpawnSpec {
        task_id,
        run_id: run_ctx.run.id,
        workdir: workdir.clone(),
        prompt: profile.prompt(&run_ctx.task.title, &run_ctx.task.body),
        token,
        env: agent_path().into_iter().map(|p| ("PATH".to_string(), p)).collect(),
    };
    // A new worktree runs the repo's setup script first, streamed like agent output.
    if prepared.created {
        if let Some(setup) = workspace::hook_script(&workdir, "setup") {
            match run_ctx.hook(&setup, &spec, &mut ctl).await {
                Hook::Succeeded => {}
                Hook::Failed(why) => return run_ctx.fail_before_start(format!("setup failed: {why}")).await,
                Hook::Ended(ending) => return run_ctx.finish(&workdir, ending, None, &VecDeque::new()).await,
            }
        }
    }
    // A stop or shutdown that arrived while the workspace was being made.
    if let Ok(c) = ctl.try_recv() {
        let ending = run_ctx.take_control(c);
        return run_ctx.finish(&workdir, ending, None, &VecDeque::new()).await;
    }
    let proc = match runtime::spawn(&profile, &spec) {
        Ok(p) => p,
        Err(e) => return run_ctx.fail_before_start(e.to_string()).await,
    };
    let pid = proc.group.pid();
    if let Err(e) = daemon.store.set_run_pid(run_ctx.run.id, pid as i64).await {
        tracing::error!(task_id, "cannot record the pid: {e}");
    }
    run_ctx
        .emit(EventKind::status("running", format!("started `{}` (pid {pid}) in {}", profile.name, workdir.display())))
        .await;
    let (ending, exit, tail) = run_ctx.watch(proc, &mut ctl).await;
    if ending != Ending::Shutdown {
        if let Some(cleanup) = workspace::hook_script(&workdir, "cleanup") {
            if let Hook::Failed(why) = run_ctx.hook(&cleanup, &spec, &mut ctl).await {
                run_ctx.emit(EventKind::Error { message: format!("cleanup failed: {why}") }).await;
            }
        }
    }
    run_ctx.finish(&workdir, ending, exit, &tail).await;
}

/// How a repo hook script (setup, cleanup) went.
enum Hook {
    Succeeded,
    Failed(String),
    /// Stopped by the user or the daemon's shutdown while it ran.
    Ended(Ending),
}

struct RunCtx<'a> {
    daemon: &'a Arc<Daemon>,
    task: Task,
    run: Run,
    stop_waiters: Vec<oneshot::Sender<()>>,
}

impl RunCtx<'_> {
    async fn emit(&self, kind: EventKind) {
        self.daemon.hub.emit(self.task.id, self.run.id, kind).await;
    }

    /// Runs a repo hook script in the workspace, its output going to the task's log.
    async fn hook(&mut self, argv: &[String], spec: &SpawnSpec, ctl: &mut mpsc::UnboundedReceiver<Control>) -> Hook {
        let name = argv.last().cloned().unwrap_or_default();
        self.emit(EventKind::status("hook", format!("running {name}"))).await;
        let hook_spec = SpawnSpec { prompt: String::new(), ..spec.clone() };
        let proc = match runtime::command::spawn(argv, &hook_spec) {
            Ok(p) => p,
            Err(e) => return Hook::Failed(e.to_string()),
        };
        match self.watch(proc, ctl).await {
            (Ending::Natural, Some(exit), _) if exit.success() => Hook::Succeeded,
            (Ending::Natural, Some(exit), tail) => Hook::Failed(format!("{name}: {}", failure_reason(&exit, &tail))),
            (Ending::Natural, None, _) => Hook::Failed(format!("{name} vanished")),
            (ending, _, _) => Hook::Ended(ending),
        }
    }

    fn take_control(&mut self, c: Control) -> Ending {
        match c {
            Control::Stop(ack) => {
                self.stop_waiters.push(ack);
                Ending::Stopped
            }
            Control::Shutdown => Ending::Shutdown,
        }
    }

    /// Follows the agent until it and its whole process group are gone.
    async fn watch(&mut self, mut proc: AgentProcess, ctl: &mut mpsc::UnboundedReceiver<Control>) -> (Ending, Option<ExitInfo>, VecDeque<String>) {
        let grace = self.daemon.config.stop_grace;
        let log_path = self.daemon.config.run_log(self.task.id, self.run.id);
        let mut log = open_log(&log_path).await;
        let mut tail = VecDeque::with_capacity(STDERR_TAIL);
        let mut ending = Ending::Natural;
        let mut output_open = true;
        let mut exited = false;
        let group = proc.group.clone();
        while output_open || !exited {
            tokio::select! {
                out = proc.output.recv(), if output_open => match out {
                    Some(out) => {
                        if let Some(log) = log.as_mut() {
                            let prefix = if out.stream == OutputStream::Stderr { "[stderr] " } else { "" };
                            let _ = log.write_all(format!("{prefix}{}\n", out.raw).as_bytes()).await;
                            if proc.output.is_empty() {
                                let _ = log.flush().await;
                            }
                        }
                        if out.stream == OutputStream::Stderr {
                            if tail.len() == STDERR_TAIL {
                                tail.pop_front();
                            }
                            tail.push_back(out.raw);
                        }
                        self.emit(out.event).await;
                    }
                    None => output_open = false,
                },
                _ = group.wait(), if !exited => {
                    exited = true;
                    // Whatever the agent left running in its group goes too.
                    let g = group.clone();
                    tokio::spawn(async move { g.reap(grace).await });
                }
                Some(c) = ctl.recv() => {
                    let this = self.take_control(c);
                    if ending == Ending::Natural {
                        ending = this;
                        let g = group.clone();
                        tokio::spawn(async move { g.terminate(grace).await });
                    }
                }
            }
        }
        if let Some(mut log) = log {
            let _ = log.flush().await;
        }
        (ending, group.exit_info(), tail)
    }

    /// Records how the run ended: leftovers committed, run and task finished in the
    /// store, the final status event written, waiters answered, the slot freed.
    async fn finish(mut self, workdir: &Path, ending: Ending, exit: Option<ExitInfo>, tail: &VecDeque<String>) {
        let (run_status, task_status, reason) = match (ending, exit) {
            (Ending::Stopped, _) => (RunStatus::Stopped, TaskStatus::Stopped, Some("stopped by user".to_string())),
            (Ending::Shutdown, _) => {
                (RunStatus::Interrupted, TaskStatus::Interrupted, Some("the daemon shut down while the agent ran".to_string()))
            }
            (Ending::Natural, Some(e)) if e.success() => (RunStatus::Succeeded, TaskStatus::Review, None),
            (Ending::Natural, Some(e)) => (RunStatus::Failed, TaskStatus::Failed, Some(failure_reason(&e, tail))),
            (Ending::Natural, None) => (RunStatus::Failed, TaskStatus::Failed, Some("the agent vanished".to_string())),
        };
        match workspace::commit_leftovers(&self.task, workdir, &self.run.agent).await {
            Ok(Some(sha)) => self.emit(EventKind::status("committed", format!("bosun committed the agent's uncommitted work as {sha}"))).await,
            Ok(None) => {}
            Err(e) => self.emit(EventKind::Error { message: format!("cannot commit the agent's leftover work: {e}") }).await,
        }
        let message = reason.clone().unwrap_or_else(|| exit.map(|e| e.describe()).unwrap_or_default());
        let end = RunEnd { status: run_status, exit_code: exit.and_then(|e| e.code).map(i64::from), reason, task_status };
        self.end(end, message).await;
    }

    /// The run never got a process: record why.
    async fn fail_before_start(mut self, why: String) {
        tracing::warn!(task = self.task.id, "run failed to start: {why}");
        self.emit(EventKind::Error { message: why.clone() }).await;
        let end = RunEnd { status: RunStatus::Failed, exit_code: None, reason: Some(why.clone()), task_status: TaskStatus::Failed };
        self.end(end, why).await;
    }

    /// The final status event is stored before the task's new status, so whoever
    /// sees the task settled can find every event of the run in the store.
    async fn end(&mut self, end: RunEnd, message: String) {
        self.emit(EventKind::status(end.task_status.as_str(), message)).await;
        self.daemon.hub.flush().await;
        match self.daemon.store.finish_run(self.run.id, end, Utc::now()).await {
            Ok(task) => self.task = task,
            Err(e) => tracing::error!(task = self.task.id, "cannot record the end of run {}: {e}", self.run.id),
        }
        self.daemon.publish(&self.task);
        release(self.daemon, self.task.id);
        for waiter in self.stop_waiters.drain(..) {
            let _ = waiter.send(());
        }
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

fn failure_reason(exit: &ExitInfo, tail: &VecDeque<String>) -> String {
    let last: Vec<&str> = tail.iter().rev().filter(|l| !l.trim().is_empty()).take(3).map(String::as_str).collect();
    if last.is_empty() {
        exit.describe()
    } else {
        let lines: Vec<&str> = last.into_iter().rev().collect();
        format!("{}: {}", exit.describe(), lines.join(" | "))
    }
}

/// Frees the task's slot and wakes the dispatcher.
fn release(daemon: &Daemon, task_id: TaskId) {
    daemon.live.lock().unwrap().remove(&task_id);
    daemon.run_ended.notify_waiters();
    daemon.trigger(Trigger::RunFinished(task_id));
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
