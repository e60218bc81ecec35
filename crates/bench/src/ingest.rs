//! `ingest`: events per second persisted through the whole pipeline (agent stdout,
//! reader, supervisor, writer, SQLite), and through `SqliteStore::append_events` alone.

use std::time::{Duration, Instant};

use anyhow::Result;
use bosun_core::{EventKind, NewEvent, NewTask, Source};
use bosun_store::{SqliteStore, Store, TaskRecord};
use chrono::Utc;
use serde_json::json;

use crate::daemon::{Bins, Sampler, Sandbox};
use crate::{Report, Tally, fig, percentile};

#[derive(clap::Parser)]
pub struct Args {
    /// Agents emitting at once.
    #[arg(long, default_value_t = 4)]
    pub agents: usize,
    /// Events per agent, emitted as fast as possible.
    #[arg(long, default_value_t = 50_000)]
    pub events: u64,
    /// Events appended in the store-only measurement.
    #[arg(long, default_value_t = 200_000)]
    pub store_events: usize,
}

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    let sandbox = Sandbox::new(bins)?;
    let step = json!({"say": "ingest {i}"});
    sandbox.agent("ingest", &[json!({"repeat": {"times": args.events, "every_ms": 0, "step": step}})])?;
    let daemon = sandbox.start(args.agents + 8).await?;
    let sampler = Sampler::start(daemon.pid)?;
    // A person watching the board meanwhile: the task list, every 50 ms.
    let (watch_http, watch_url) = (daemon.http.clone(), format!("{}/api/tasks", daemon.url));
    let (stop_watching, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut ms = Vec::new();
        loop {
            let t = Instant::now();
            if watch_http.get(&watch_url).send().await.and_then(|r| r.error_for_status()).is_ok() {
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = &mut stopped => break ms,
            }
        }
    });
    let t0 = Instant::now();
    let (ids, late) = daemon.run_tasks(args.agents, "ingest", args.events, Duration::from_secs(600), Duration::from_millis(10)).await?;
    let elapsed = t0.elapsed().as_secs_f64();
    let _ = stop_watching.send(());
    let mut list_ms = watcher.await?;
    list_ms.sort_by(f64::total_cmp);
    let usage = sampler.finish()?;
    let tally = Tally::read(&daemon, &ids, "ingest ", args.events).await?;
    daemon.stop()?;
    let store_rate = store_only(&sandbox, args.store_events).await?;

    Ok(Report {
        scenario: "ingest",
        params: json!({"agents": args.agents, "events_per_agent": args.events, "store_events": args.store_events}),
        figures: vec![
            fig("agent events lost", (args.events * args.agents as u64 - tally.stored) as f64, "").at_most(0.0),
            fig("seq gaps + duplicates", (tally.seq_errors + tally.duplicates) as f64, "").at_most(0.0),
            fig("logs incomplete at review", late as f64, "").at_most(0.0),
            fig("events stored (all kinds)", tally.events as f64, ""),
            fig("pipeline time", elapsed, "s"),
            fig("pipeline rate", tally.events as f64 / elapsed, "events/s").at_least(50_000.0),
            fig("store-only append rate", store_rate, "events/s"),
            fig("daemon peak RSS while ingesting", usage.peak_rss_mb, "MB"),
            fig("GET /api/tasks p95 while ingesting", percentile(&list_ms, 95.0), "ms"),
            fig("GET /api/tasks samples", list_ms.len() as f64, ""),
        ],
    })
}

/// `append_events` of `n` events in batches of 1024 on a fresh database file.
async fn store_only(sandbox: &Sandbox, n: usize) -> Result<f64> {
    let store = SqliteStore::open(&sandbox.dir.join("store-only.db")).await?;
    let new = NewTask { title: "store-only".into(), ..Default::default() };
    let task = store.create_task(TaskRecord { new, repo: None, base: None }, Utc::now()).await?;
    let (_, run) = store.start_run(task.id, "bench", "token", "local", Utc::now()).await?;
    let now = Utc::now();
    let events: Vec<NewEvent> = (1..=n as i64)
        .map(|seq| NewEvent {
            task_id: task.id,
            run_id: run.id,
            ts: now,
            source: Source::Agent,
            kind: EventKind::Message { text: format!("ingest {seq}"), role: None, from: None },
            charge: None,
        })
        .collect();
    let t0 = Instant::now();
    for batch in events.chunks(1024) {
        store.append_events(batch, &[]).await?;
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    anyhow::ensure!(store.last_seq(task.id).await? == n as i64, "the store-only run did not store every event");
    Ok(rate)
}
