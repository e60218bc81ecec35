//! `load`: many concurrent agents, each emitting events at a steady rate for a while.
//! Every event must be stored (counted per task through the events API, seqs without
//! gaps), while the daemon's memory and CPU are sampled.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use serde_json::json;

use crate::daemon::{Bins, Sampler, Sandbox};
use crate::{Report, Tally, fig};

#[derive(clap::Parser)]
pub struct Args {
    /// Concurrent agents.
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Events per second per agent.
    #[arg(long, default_value_t = 10)]
    pub rate: u64,
    /// How long each agent emits.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
}

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    ensure!((1..=1000).contains(&args.rate), "--rate must be between 1 and 1000");
    let per_agent = args.rate * args.seconds;
    let sandbox = Sandbox::new(bins)?;
    let step = json!({"say": "load {i}"});
    sandbox.agent("load", &[json!({"repeat": {"times": per_agent, "every_ms": 1000 / args.rate, "step": step}})])?;
    let daemon = sandbox.start(args.agents + 8).await?;

    let (sampler, t0) = (Sampler::start(daemon.pid)?, Instant::now());
    let timeout = Duration::from_secs(args.seconds + 120);
    let (ids, late) = daemon.run_tasks(args.agents, "load", per_agent, timeout, Duration::from_millis(100)).await?;
    let wall = t0.elapsed().as_secs_f64();
    let usage = sampler.finish()?;
    let tally = Tally::read(&daemon, &ids, "load ", per_agent).await?;
    daemon.stop()?;

    let expected = per_agent * args.agents as u64;
    Ok(Report {
        scenario: "load",
        params: json!({"agents": args.agents, "rate_per_s": args.rate, "seconds": args.seconds}),
        figures: vec![
            fig("events expected", expected as f64, ""),
            fig("events stored", tally.stored as f64, ""),
            fig("events lost", (expected - tally.stored) as f64, "").at_most(0.0),
            fig("seq gaps + duplicates", (tally.seq_errors + tally.duplicates) as f64, "").at_most(0.0),
            fig("logs incomplete at review", late as f64, "").at_most(0.0),
            fig("peak RSS (VmHWM)", usage.peak_rss_mb, "MB").at_most(150.0),
            fig("max sampled RSS (VmRSS)", usage.max_sampled_rss_mb, "MB"),
            fig("mean CPU (% of one core)", usage.mean_cpu_pct, "%"),
            fig("wall time", wall, "s"),
        ],
    })
}
