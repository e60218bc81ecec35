//! `dispatch --repo-files N --burst M [--pool K]`: M tasks posted at once in one repo,
//! each one's start latency (POST → its agent's first timestamp, queueing included:
//! the daemon runs 8 at a time), how many met a warm worktree as the pool drained and
//! refilled, the daemon's RSS and CPU over the burst and the refill after it, and how
//! long the pool took to be full again.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::daemon::{Daemon, Sampler, Sandbox};
use crate::repo::{open_store, pool_ready, started_after, started_warm, wait_pool_full};
use crate::{Report, fig, ms, now_ns, percentile, sorted};

pub async fn run(sandbox: &Sandbox, daemon: &Daemon, repo: &Path, files: usize, tasks: usize, pool: usize) -> Result<Report> {
    let store = open_store(sandbox).await?;
    if pool > 0 {
        // The daemon fills the pool of a repo it knows: after its first task.
        let id = daemon.create_with(&json!({"title": "warm-up", "agent": "dispatch", "repo": repo})).await?;
        started_after(daemon, id, now_ns()).await?;
        wait_pool_full(daemon, &store, pool).await?;
    }
    let sampler = Sampler::start(daemon.pid)?;
    let mut posted = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let t0 = now_ns();
        let body = json!({"title": format!("burst task {i}"), "agent": "dispatch", "repo": repo});
        posted.push((daemon.create_with(&body).await?, t0));
    }
    let (mut all, mut warm_ms, mut cold_ms) = (Vec::new(), Vec::new(), Vec::new());
    for (id, t0) in posted {
        let took = started_after(daemon, id, t0).await?;
        all.push(took);
        if started_warm(daemon, id).await? { warm_ms.push(took) } else { cold_ms.push(took) }
    }
    let refill = Instant::now();
    if pool > 0 {
        wait_pool_full(daemon, &store, pool).await?;
    }
    let refill_ms = ms(refill.elapsed());
    let usage = sampler.finish()?;
    let ready = pool_ready(&store).await?;
    let (a, w, c) = (sorted(all), sorted(warm_ms), sorted(cold_ms));
    Ok(Report {
        scenario: "dispatch-burst",
        params: json!({"files": files, "tasks": tasks, "pool": pool, "max_concurrent": 8}),
        figures: vec![
            fig("start p50 (queueing included)", percentile(&a, 50.0), "ms"),
            fig("start p99", percentile(&a, 99.0), "ms"),
            fig("tasks started warm", w.len() as f64, "tasks"),
            fig("warm start p50", percentile(&w, 50.0), "ms"),
            fig("cold start p50", percentile(&c, 50.0), "ms"),
            fig("pool full again after the last start", refill_ms, "ms"),
            fig("pool ready at the end", ready as f64, "worktrees"),
            fig("daemon peak RSS (VmHWM)", usage.peak_rss_mb, "MB"),
            fig("daemon CPU over burst + refill", usage.mean_cpu_pct, "% of a core"),
        ],
    })
}
