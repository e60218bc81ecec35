//! `dispatch --repo-files N --pool K --repos R`: the daemon's memory and CPU with a
//! warm pool of K worktrees in each of R repos — one task in each repo (the daemon
//! fills the pool of a repo once it has had a task), then the daemon's RSS once every
//! pool is full and its CPU over the refill, then one warm start in each repo.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::daemon::{Daemon, Sampler, Sandbox};
use crate::repo::{Source, make_repo, open_store, started_after, started_warm, wait_pool_full};
use crate::{Report, fig, ms, now_ns, percentile, sorted};

pub async fn run(sandbox: &Sandbox, daemon: &Daemon, first: PathBuf, source: &Source, repos: usize, pool: usize) -> Result<Report> {
    let mut all = vec![first];
    for r in 1..repos {
        let repo = sandbox.dir.join(format!("repo-{r}"));
        make_repo(sandbox, &repo, source)?;
        all.push(repo);
    }
    let store = open_store(sandbox).await?;
    let sampler = Sampler::start(daemon.pid)?;
    let fill = Instant::now();
    for (r, repo) in all.iter().enumerate() {
        let id = daemon.create_with(&json!({"title": format!("first task in repo {r}"), "agent": "dispatch", "repo": repo})).await?;
        started_after(daemon, id, now_ns()).await?;
    }
    wait_pool_full(daemon, &store, pool * repos).await?;
    let fill_ms = ms(fill.elapsed());
    let filled = sampler.finish()?;
    let rss_mb = crate::daemon::rss_mb(daemon.pid)?;
    let (mut warm_ms, mut warm) = (Vec::new(), 0);
    for (r, repo) in all.iter().enumerate() {
        let t0 = now_ns();
        let id = daemon.create_with(&json!({"title": format!("warm task in repo {r}"), "agent": "dispatch", "repo": repo})).await?;
        warm_ms.push(started_after(daemon, id, t0).await?);
        warm += usize::from(started_warm(daemon, id).await?);
    }
    let w = sorted(warm_ms);
    Ok(Report {
        scenario: "dispatch-pools",
        params: json!({"repos": repos, "pool": pool}),
        figures: vec![
            fig("daemon RSS, every pool full", rss_mb, "MB").at_most(40.0),
            fig("daemon peak RSS (VmHWM) while filling", filled.peak_rss_mb, "MB"),
            fig("daemon CPU from the first tasks to full pools", filled.mean_cpu_pct, "% of a core"),
            fig("first tasks + every pool full", fill_ms, "ms"),
            fig("warm start p50 (one per repo, back to back: each meets the last one's refill)", percentile(&w, 50.0), "ms"),
            fig("tasks started warm", warm as f64, "tasks"),
        ],
    })
}
