//! `bosun-bench`: bosun's benchmark harness. Each scenario starts the real `bosun serve`
//! in a sealed temporary directory, drives it through its HTTP API with the scripted
//! fake agent, and reports figures beside their targets (see BENCHMARKS.md).

mod api;
mod burst;
mod daemon;
mod dispatch;
mod ingest;
mod list;
mod load;
mod pools;
mod real;
mod repo;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(name = "bosun-bench", about = "Benchmarks the real bosun daemon with fake agents.")]
struct Cli {
    /// The `bosun` binary. Default: next to this executable.
    #[arg(long, global = true)]
    bosun: Option<PathBuf>,
    /// The `bosun-fake-agent` binary. Default: next to this executable.
    #[arg(long, global = true)]
    fake_agent: Option<PathBuf>,
    /// Print one JSON object instead of the human summary.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Overhead from task creation to the agent process running (scratch tasks; `--repo-files N` or `--repo PATH`: in a git repo, against the floor).
    Dispatch(dispatch::Args),
    /// Many concurrent agents emitting events at a steady rate: loss, RSS, CPU.
    Load(load::Args),
    /// Events per second through the whole pipeline, and through the store alone.
    Ingest(ingest::Args),
    /// Latency of `GET /api/tasks` over many tasks.
    List(list::Args),
    /// The real agent CLIs (after `npm ci`): first-event latency per runtime, daemon RSS/CPU with 8 Claude Code agents.
    Real(real::Args),
    /// bosun's own `api` agent against the mock model: start to first request, streaming overhead, RSS.
    Api(api::Args),
    /// Every scenario with its defaults, then a Markdown table for BENCHMARKS.md.
    All,
}

/// One measured figure, with its target when it has one.
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    /// (`≤` or `≥`, bound)
    pub target: Option<(&'static str, f64)>,
}

pub fn fig(name: &'static str, value: f64, unit: &'static str) -> Figure {
    Figure { name, value, unit, target: None }
}

impl Figure {
    pub fn at_most(self, bound: f64) -> Figure {
        Figure { target: Some(("≤", bound)), ..self }
    }

    pub fn at_least(self, bound: f64) -> Figure {
        Figure { target: Some(("≥", bound)), ..self }
    }

    pub fn met(&self) -> Option<bool> {
        self.target.map(|(op, b)| if op == "≤" { self.value <= b } else { self.value >= b })
    }

    fn show(&self, v: f64) -> String {
        let digits = match self.unit {
            "ms" | "s" | "x" | "µs" => 2,
            "MB" | "%" => 1,
            _ => 0,
        };
        format!("{v:.digits$} {}", self.unit).trim_end().to_string()
    }

    fn target_text(&self) -> String {
        self.target.map(|(op, b)| format!("{op} {}", self.show(b))).unwrap_or_default()
    }
}

/// What a scenario reports: its parameters and its figures.
pub struct Report {
    pub scenario: &'static str,
    pub params: Value,
    pub figures: Vec<Figure>,
}

/// The binary's entry point; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("bosun-bench: {e:#}");
            1
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let bins = daemon::Bins::find(cli.bosun, cli.fake_agent)?;
    let reports = match cli.cmd {
        Cmd::Dispatch(a) => vec![dispatch::run(&bins, &a).await?],
        Cmd::Real(a) => vec![real::run(&bins, &a).await?],
        Cmd::Api(a) => vec![api::run(&bins, &a).await?],
        Cmd::Load(a) => vec![load::run(&bins, &a).await?],
        Cmd::Ingest(a) => vec![ingest::run(&bins, &a).await?],
        Cmd::List(a) => vec![list::run(&bins, &a).await?],
        Cmd::All => vec![
            dispatch::run(&bins, &dispatch::Args::parse_from(["dispatch"])).await?,
            load::run(&bins, &load::Args::parse_from(["load"])).await?,
            ingest::run(&bins, &ingest::Args::parse_from(["ingest"])).await?,
            list::run(&bins, &list::Args::parse_from(["list"])).await?,
        ],
    };
    if cli.json {
        let scenarios: Vec<Value> = (reports.iter())
            .map(|r| {
                let figures: Vec<Value> = (r.figures.iter())
                    .map(|f| json!({"name": f.name, "value": f.value, "unit": f.unit, "target": f.target_text(), "met": f.met()}))
                    .collect();
                json!({"scenario": r.scenario, "params": r.params, "figures": figures})
            })
            .collect();
        println!("{}", json!({"machine": machine(), "scenarios": scenarios}));
        return Ok(());
    }
    println!("Machine: {}\n", machine());
    reports.iter().for_each(|r| println!("{}: {}", r.scenario, r.params));
    println!("\n| Scenario | Figure | Result | Target | Met |\n|---|---|---|---|---|");
    for r in &reports {
        for f in &r.figures {
            let met = f.met().map_or("", |m| if m { "yes" } else { "**no**" });
            println!("| {} | {} | {} | {} | {met} |", r.scenario, f.name, f.show(f.value), f.target_text());
        }
    }
    Ok(())
}

/// CPU model, cores, memory and the date, in one line.
fn machine() -> String {
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let meminfo = read("/proc/meminfo");
    let mem_kb = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse::<f64>().ok());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = mem_kb.unwrap_or(0.0) / 1024.0 / 1024.0;
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!("{} ({cores} cores), {mem_gib:.1} GiB RAM, {date}", model.unwrap_or("unknown CPU"))
}

/// Nearest-rank percentile of `sorted` (ascending), `p` in 0..=100.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(f64::NAN)
}

pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn now_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_nanos()
}

/// How the logs of some tasks hold the agent's numbered messages `"<prefix><i>"`, `i < expected`.
#[derive(Default)]
pub struct Tally {
    /// Every event stored.
    pub events: u64,
    /// Distinct numbered messages found.
    pub stored: u64,
    pub duplicates: u64,
    /// Events whose seq is not their 1-based position in the log (gaps, disorder).
    pub seq_errors: u64,
}

impl Tally {
    /// Reads every log of `ids` through the events API and tallies it.
    pub async fn read(daemon: &daemon::Daemon, ids: &[i64], prefix: &str, expected: u64) -> anyhow::Result<Tally> {
        let mut t = Tally::default();
        for id in ids {
            let mut seen = std::collections::HashSet::new();
            let events = daemon.events(*id).await?;
            t.events += events.len() as u64;
            for (pos, ev) in events.iter().enumerate() {
                t.seq_errors += u64::from(ev["seq"].as_i64() != Some(pos as i64 + 1));
                let index = ev["text"].as_str().and_then(|s| s.strip_prefix(prefix)?.parse::<u64>().ok());
                if let Some(i) = index.filter(|i| ev["type"] == "message" && *i < expected) {
                    if seen.insert(i) { t.stored += 1 } else { t.duplicates += 1 }
                }
            }
        }
        Ok(t)
    }
}
