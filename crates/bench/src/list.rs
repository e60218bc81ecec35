//! `list`: latency of `GET /api/tasks` returning every task, over a database of many
//! tasks each with one finished run (written straight into the store beforehand).

use std::time::Instant;

use anyhow::{Result, ensure};
use bosun_core::{NewTask, RunStatus, TaskEvent};
use bosun_store::{RunEnd, SqliteStore, Store, TaskFilter, TaskRecord};
use chrono::Utc;
use serde_json::json;

use crate::daemon::{Bins, Daemon, Sandbox};
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
    let store = SqliteStore::open(&sandbox.data_dir().join("bosun.db")).await?;
    let seeding = Instant::now();
    for n in 0..args.tasks {
        let now = Utc::now();
        let new = NewTask { title: format!("list task {n}"), agent: Some("bench".into()), ..Default::default() };
        let task = store.create_task(TaskRecord { new, repo: None, base: None }, now).await?;
        let (_, run) = store.start_run(task.id, "bench", &format!("token-{n}"), "local", now).await?;
        store.set_run_pid(run.id, 1_000_000 + n as i64).await?;
        let end =
            RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_event: TaskEvent::Finished { success: true } };
        store.finish_run(run.id, end, now).await?;
    }
    let seed_s = seeding.elapsed().as_secs_f64();
    // The same list without HTTP: the store's query, then the JSON encoding.
    let (mut store_ms, mut encode_ms) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let t0 = Instant::now();
        let tasks = store.list_tasks(&TaskFilter::default()).await?;
        let t1 = Instant::now();
        serde_json::to_vec(&tasks)?;
        store_ms.push(ms(t1 - t0));
        encode_ms.push(ms(t1.elapsed()));
    }
    drop(store);
    let daemon = sandbox.start(8).await?;

    let (t, size) = time_gets(&daemon, "/api/tasks", args.requests).await?;
    let (page, _) = time_gets(&daemon, "/api/tasks?limit=1000", args.requests).await?;
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&daemon.http.get(format!("{}/api/tasks", daemon.url)).send().await?.bytes().await?)?;
    ensure!(all.len() == args.tasks, "GET /api/tasks returned {} tasks, not {}", all.len(), args.tasks);
    ensure!(all.iter().all(|t| t["runs"].as_array().is_some_and(|r| r.len() == 1)), "a task lacks its run");
    daemon.stop()?;

    Ok(Report {
        scenario: "list",
        params: json!({"tasks": args.tasks, "requests": args.requests}),
        figures: vec![
            fig("GET /api/tasks p50", percentile(&t, 50.0), "ms"),
            fig("GET /api/tasks p95", percentile(&t, 95.0), "ms").at_most(20.0),
            fig("GET /api/tasks p99", percentile(&t, 99.0), "ms"),
            fig("response size", size as f64 / 1e6, "MB"),
            fig("GET /api/tasks?limit=1000 p95", percentile(&page, 95.0), "ms"),
            fig("store list_tasks p50 (no HTTP)", percentile(&sorted(store_ms), 50.0), "ms"),
            fig("JSON encoding p50 (no HTTP)", percentile(&sorted(encode_ms), 50.0), "ms"),
            fig("seeding the store", seed_s, "s"),
        ],
    })
}

/// Times `requests` sequential GETs of `path` (body read in full) after 5 warm-ups;
/// returns the sorted times and the size of the last body.
async fn time_gets(daemon: &Daemon, path: &str, requests: usize) -> Result<(Vec<f64>, usize)> {
    let (mut times, mut size) = (Vec::with_capacity(requests), 0);
    for n in 0..5 + requests {
        let t0 = Instant::now();
        let body = daemon.http.get(format!("{}{path}", daemon.url)).send().await?.error_for_status()?.bytes().await?;
        if n >= 5 {
            times.push(ms(t0.elapsed()));
        }
        size = body.len();
    }
    Ok((sorted(times), size))
}
