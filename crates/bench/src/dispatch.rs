//! `dispatch`: the orchestrator's overhead from `POST /api/tasks` to the agent process
//! running, for scratch tasks (no git checkout), one task at a time so nothing queues.
//! With `--repo-files N` or `--repo PATH` the tasks run in a git repo instead (`repo.rs`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;

use crate::daemon::{Bins, Sandbox};
use crate::{Report, fig, ms, now_ns, percentile, sorted};

#[derive(clap::Parser)]
pub struct Args {
    /// Tasks, run one after the other.
    #[arg(long, default_value_t = 200)]
    pub tasks: usize,
    /// Run the tasks in a fresh git repo of this many files, against the floor (a bare
    /// `git worktree add` + spawn of the same repo, in the same run).
    #[arg(long, conflicts_with = "repo")]
    pub repo_files: Option<usize>,
    /// Run the tasks in a local clone of this repo (the repo itself is not touched).
    #[arg(long)]
    pub repo: Option<std::path::PathBuf>,
    /// `bosun serve --pool K`: each measured task meets K warm worktrees (repo tasks only).
    #[arg(long, default_value_t = 0)]
    pub pool: usize,
    /// Post this many tasks at once (repo tasks only): start latency as the pool
    /// drains and refills, and the daemon's RSS and CPU meanwhile.
    #[arg(long, conflicts_with = "repos")]
    pub burst: Option<usize>,
    /// Fill the pools of this many repos like the first (with `--pool K`): the daemon's
    /// RSS and CPU with every pool full, then one warm start in each.
    #[arg(long, requires = "pool")]
    pub repos: Option<usize>,
}

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    let source = match (&args.repo, args.repo_files) {
        (Some(path), _) => Some(crate::repo::Source::Clone(path.clone())),
        (None, Some(n)) => Some(crate::repo::Source::Files(n)),
        (None, None) => None,
    };
    if let Some(source) = source {
        return crate::repo::run(
            bins,
            &crate::repo::Plan { source, tasks: args.tasks, pool: args.pool, burst: args.burst, repos: args.repos },
        )
        .await;
    }
    if args.pool > 0 || args.burst.is_some() || args.repos.is_some() {
        anyhow::bail!("--pool, --burst and --repos need a repo: --repo-files N or --repo PATH");
    }
    let sandbox = Sandbox::new(bins)?;
    // The agent's first act is to report the time it started.
    sandbox.agent("dispatch", &[json!({"emit": {"type": "message", "text": "started {now_ns}"}})])?;
    let daemon = sandbox.start(8).await?;
    let (mut overhead, mut round_trip) = (Vec::new(), Vec::new());
    for _ in 0..args.tasks {
        let (t0, started) = (now_ns(), Instant::now());
        // t0 is taken just before the POST: `run_tasks` starts with it.
        let (ids, _) = daemon.run_tasks(1, "dispatch", 0, Duration::from_secs(30), Duration::from_millis(5)).await?;
        round_trip.push(ms(started.elapsed()));
        let id = ids[0];
        let events = daemon.get(&format!("/api/tasks/{id}/events?limit=10")).await?;
        let agent_ns: u128 = (events.as_array().into_iter().flatten())
            .find_map(|e| e["text"].as_str()?.strip_prefix("started ")?.parse().ok())
            .with_context(|| format!("task {id} has no `started` event with a time: {events}"))?;
        overhead.push(agent_ns.saturating_sub(t0) as f64 / 1e6);
    }
    daemon.stop()?;

    let (o, r) = (sorted(overhead), sorted(round_trip));
    Ok(Report {
        scenario: "dispatch",
        params: json!({"tasks": args.tasks}),
        figures: vec![
            fig("overhead p50", percentile(&o, 50.0), "ms").at_most(20.0),
            fig("overhead p90", percentile(&o, 90.0), "ms"),
            fig("overhead p99", percentile(&o, 99.0), "ms"),
            fig("overhead max", percentile(&o, 100.0), "ms"),
            fig("create→review p50 (5 ms polls)", percentile(&r, 50.0), "ms"),
        ],
    })
}
