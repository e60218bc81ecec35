//! `list`: latency of `GET /api/tasks` returning every task, over a database of many
//! tasks each with one finished run (written straight into the store beforehand).

use std::time::Instant;

use anyhow::{Result, ensure};
use bosun_core::{NewTask, RunStatus, TaskStatus};
use bosun_store::{RunEnd, SqliteStore, Store, TaskRecord};
use chrono::Utc;
use serde_json::json;

use crate::daemon::{Bins, Sandbox};
use crate::{Report, fig, ms, percentile, sorted};

#[derive(clap::Parser)]
pub struct Args {
    /// Tasks in the database.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    /// Timed requests (after 5 warm-ups).
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    let sandbox = Sandbox::new(bins)?;
    let seeding = Instant::now();
    {
        let store = SqliteStore::open(&sandbox.data_dir().join("bosun.db")).await?;
        for n in 0..args.tasks {
            let now = Utc::now();
            let new = NewTask { title: format!("list task {n}"), agent: Some("bench".into()), ..Default::default() };
            let task = store.create_task(TaskRecord { new, repo: None, base: None }, now).await?;
            let (_, run) = store.start_run(task.id, "bench", &format!("token-{n}"), now).await?;
            store.set_run_pid(run.id, 1_000_000 + n as i64).await?;
            let end = RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_status: TaskStatus::Review };
            store.finish_run(run.id, end, now).await?;
        }
    }
    let seed_s = seeding.elapsed().as_secs_f64();
    let daemon = sandbox.start(8).await?;

    let url = format!("{}/api/tasks", daemon.url);
    let mut times = Vec::with_capacity(args.requests);
    let mut size = 0;
    for n in 0..5 + args.requests {
        let t0 = Instant::now();
        let resp = daemon.http.get(&url).send().await?.error_for_status()?;
        let body = resp.bytes().await?;
        let took = t0.elapsed();
        if n == 0 {
            let tasks: Vec<serde_json::Value> = serde_json::from_slice(&body)?;
            ensure!(tasks.len() == args.tasks, "GET /api/tasks returned {} tasks, not {}", tasks.len(), args.tasks);
            ensure!(tasks.iter().all(|t| t["runs"].as_array().is_some_and(|r| r.len() == 1)), "a task lacks its run");
        }
        if n >= 5 {
            times.push(ms(took));
        }
        size = body.len();
    }
    daemon.stop()?;

    let t = sorted(times);
    Ok(Report {
        scenario: "list",
        params: json!({"tasks": args.tasks, "requests": args.requests}),
        figures: vec![
            fig("GET /api/tasks p50", percentile(&t, 50.0), "ms"),
            fig("GET /api/tasks p95", percentile(&t, 95.0), "ms").at_most(20.0),
            fig("GET /api/tasks p99", percentile(&t, 99.0), "ms"),
            fig("response size", size as f64 / 1e6, "MB"),
            fig("seeding the store", seed_s, "s"),
        ],
    })
}
