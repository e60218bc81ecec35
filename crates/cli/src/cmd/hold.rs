//! `bosun hold` (hidden): the per-run holder process the daemon starts for each agent,
//! so the agent outlives the daemon (see `bosun_agents::holder`). Not for people.

use std::path::PathBuf;
use std::time::Duration;

use crate::Failure;

/// Hold an agent's pipes for the daemon (started by `bosun serve`).
#[derive(clap::Args)]
pub struct Args {
    /// The agent's output, one JSON record a line.
    #[arg(long)]
    spool: PathBuf,
    /// The Unix socket a daemon connects to.
    #[arg(long)]
    socket: PathBuf,
    /// Milliseconds the agent's leftover processes get after it exits.
    #[arg(long, default_value_t = 5000)]
    grace_ms: u64,
    /// The run's own cgroup (v2): the agent starts in it, and it is killed at the end.
    #[arg(long)]
    cgroup: Option<PathBuf>,
    /// The agent's program and arguments.
    #[arg(last = true, required = true)]
    argv: Vec<String>,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    // A log that cannot be written (its disk is full) must not take the agent with
    // it: by default the subscriber reports such failures with `eprintln!`, which
    // panics when stderr is that same full disk.
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).log_internal_errors(false).init();
    let args = bosun_agents::holder::HoldArgs {
        spool: args.spool,
        socket: args.socket,
        grace: Duration::from_millis(args.grace_ms),
        cgroup: args.cgroup,
        argv: args.argv,
    };
    match bosun_agents::holder::run(args).await {
        0 => Ok(()),
        _ => Err(Failure("the holder could not start the agent".into())),
    }
}
