//! Agent runtimes behind one interface, and the supervision of their processes.
//!
//! # Theory of operation
//!
//! An agent is a child process started in the task's workspace as the leader of its
//! own process group, so that everything it starts (shells, compilers, test runners)
//! can be signalled as one. Its stdout and stderr are read line by line by two reader
//! tasks that turn each line into an [`AgentOutput`]: the runtime's parser decides
//! what a line means (for the `command` runtime, a JSON line in bosun's normalized
//! shape is that event; anything else is kept as raw output). Malformed lines never
//! end a run.
//!
//! The [`AgentProcess`] handle owns the group: `terminate` sends SIGTERM to the whole
//! group and SIGKILL after a grace period, and dropping the handle kills whatever is
//! left. An agent does not inherit the daemon's environment: [`env`] builds it from an
//! allow-list, the runtime's own variables, the profile's `pass_env:` and `env:`. It
//! always carries `BOSUN_RUN_TOKEN`, which survives into grandchildren; after a daemon
//! crash, [`sweep`] finds leftover processes by that token and kills them.
//!
//! With a [`Holder`] in the spec, the agent is not the daemon's child: a small
//! per-run [`holder`] process owns its pipes and keeps its output in a spool file, so
//! the agent outlives the daemon and a restarted daemon re-attaches to it
//! ([`Holder::attach`]); the driver then replays the spool to rebuild its state
//! without writing anything to the agent.
//!
//! Where the daemon may make cgroups (v2, as root or delegated), each held run also
//! gets a [`cgroup`] of its own, and ending the run kills the cgroup: that catches
//! what left the group *and* cleared its environment.

pub mod cgroup;
mod clone_into;
mod driver;
pub mod env;
mod held;
pub mod holder;
mod process;
pub mod runtime;
pub mod sweep;

use std::path::PathBuf;

pub use driver::{AgentCommand, AgentOutput, AgentProcess, Driver, DriverIo};
pub use process::{AgentStdin, ExitInfo, ProcessGroup};

/// Everything a runtime needs to start an agent for one run.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    pub task_id: i64,
    pub run_id: i64,
    /// The worktree or scratch workspace: the agent's cwd.
    pub workdir: PathBuf,
    /// The whole prompt: the profile's instructions, then the task.
    pub prompt: String,
    /// The profile's standing instructions alone (runtimes with a system prompt).
    pub instructions: String,
    /// The task alone (title and body).
    pub task: String,
    /// Cost already counted for the session being resumed.
    pub prior_cost: f64,
    /// Marks every process of this run (see [`sweep`]).
    pub token: String,
    /// Names (or `PREFIX_*` prefixes) of the daemon's environment variables the agent
    /// also gets: the profile's `pass_env:`. The agent's environment is otherwise built
    /// from an allow-list, not inherited (see [`env`]).
    pub pass_env: Vec<String>,
    /// Set for the agent whatever the daemon's environment holds (the profile's `env:`,
    /// `PATH` with bosun's directory); wins over everything inherited.
    pub env: Vec<(String, String)>,
    /// The runtime's session to continue (`bosun reply`), when it has one.
    pub resume: Option<String>,
    /// Run the agent under a holder process (it then survives the daemon); None: a
    /// plain child of this process.
    pub holder: Option<Holder>,
}

/// Where a run's holder process keeps its things, and how it is started.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The program that runs `hold` (the `bosun` binary).
    pub exe: PathBuf,
    /// The agent's output, one JSON record a line (see [`holder`]).
    pub spool: PathBuf,
    /// The holder's Unix socket.
    pub socket: PathBuf,
    /// The holder's own messages (its stderr).
    pub log: PathBuf,
    /// How long the agent's leftover processes get after it exits.
    pub grace: std::time::Duration,
    /// The run's own cgroup, to start the agent in (None: cgroups are not available,
    /// see [`cgroup`]). Its path is written to `cgroup_file` before the holder starts.
    pub cgroup: Option<PathBuf>,
    /// Where the path of the run's cgroup is kept, for whichever daemon ends the run.
    pub cgroup_file: PathBuf,
    /// Take back an agent a previous daemon started, instead of starting one: the
    /// number of its output lines whose events are already stored (the driver
    /// replays them without passing them on or writing to the agent).
    pub attach: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot start `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("the workspace {0} does not exist")]
    NoWorkdir(PathBuf),
    #[error("{0}")]
    Unsupported(String),
    #[error("{runtime}: `{program}` not found on PATH (install {package})")]
    NotInstalled { runtime: String, program: String, package: String },
    #[error("`{0}` not found on PATH")]
    NotFound(String),
    /// The holder could not start the agent, or cannot be reached.
    #[error("{0}")]
    Held(String),
}

impl Holder {
    /// Whether a restarted daemon can take its run back: the holder answers, or its
    /// spool already ends with the agent's exit.
    pub fn reachable(&self) -> bool {
        held::reachable(self)
    }

    /// Kills whatever is left in the run's cgroup (the one `cgroup_file` names) and
    /// removes it; returns how many processes it held. Nothing to do for a run
    /// without one, or whose holder already emptied it. Blocking.
    pub fn end_cgroup(&self) -> usize {
        let Ok(path) = std::fs::read_to_string(&self.cgroup_file) else { return 0 };
        let dir = PathBuf::from(path.trim_end());
        let held = cgroup::kill(&dir, cgroup::EMPTY_WAIT);
        if !dir.exists() {
            let _ = std::fs::remove_file(&self.cgroup_file);
        }
        held
    }
}
