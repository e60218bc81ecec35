//! `real`: the real agent CLIs from npm (`npm ci` at the repo root) against the mock
//! model on 127.0.0.1: per runtime, the time from task creation to the CLI's first
//! event; and the daemon's own RSS and CPU while 8 Claude Code agents run at once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bosun_mock_model::{Family, MockModel, Script, Turn};
use serde_json::json;

use crate::daemon::{Bins, Daemon, Sampler, Sandbox};
use crate::{Report, fig, ms, percentile, sorted};

#[derive(clap::Parser)]
pub struct Args {
    /// Where the CLIs are (`node_modules/.bin` after `npm ci`).
    #[arg(long, default_value = "node_modules/.bin")]
    pub clis: PathBuf,
    /// Tasks per runtime for the first-event figure.
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
    /// Claude Code agents at once for the RSS/CPU figure.
    #[arg(long, default_value_t = 8)]
    pub agents: usize,
}

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    let clis = args.clis.canonicalize().with_context(|| format!("{} (run `npm ci`)", args.clis.display()))?;
    let mock = MockModel::start(Script::new()).await?; // an empty script answers "done"
    let sandbox = Sandbox::new(bins)?;
    let quiet = "  DISABLE_TELEMETRY: \"1\"\n  DISABLE_AUTOUPDATER: \"1\"\n";
    let profiles = [
        (
            "claude",
            format!(
                "runtime: claude-code\nmodel: claude-sonnet-4-5\nenv:\n  ANTHROPIC_BASE_URL: {}\n  ANTHROPIC_API_KEY: sk-bench\n  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\"\n{quiet}",
                mock.base_url()
            ),
        ),
        (
            "codex",
            format!(
                "runtime: codex\nmodel: gpt-5.5\nargs: [\"-c\", \"model_provider=mock\", \"-c\", \"model_providers.mock.name=mock\", \"-c\", \"model_providers.mock.base_url={}\", \"-c\", \"model_providers.mock.wire_api=responses\", \"-c\", \"model_providers.mock.env_key=MOCK_KEY\", \"-c\", \"analytics.enabled=false\"]\nenv:\n  MOCK_KEY: x\n",
                mock.openai_base_url()
            ),
        ),
        (
            "gemini",
            format!("runtime: gemini\nmodel: gemini-2.5-flash\nenv:\n  GEMINI_API_KEY: x\n  GOOGLE_GEMINI_BASE_URL: {}\n", mock.base_url()),
        ),
    ];
    for (name, front) in &profiles {
        std::fs::write(sandbox.dir.join(format!("config/agents/{name}.md")), format!("---\nname: {name}\n{front}---\nBe brief.\n"))?;
    }
    let gemini_home = sandbox.dir.join("home/.gemini");
    std::fs::create_dir_all(&gemini_home)?;
    std::fs::write(
        gemini_home.join("settings.json"),
        json!({"security": {"auth": {"selectedType": "gemini-api-key"}}, "telemetry": {"enabled": false}, "privacy": {"usageStatisticsEnabled": false}}).to_string(),
    )?;
    let env = [
        ("BOSUN_CLAUDE_PATH", clis.join("claude").display().to_string()),
        ("BOSUN_CODEX_PATH", clis.join("codex").display().to_string()),
        ("BOSUN_GEMINI_PATH", clis.join("gemini").display().to_string()),
    ];
    let daemon = sandbox.start_with_env(args.agents + 4, &env).await?;

    let mut figures = Vec::new();
    for (name, label) in [("claude", "claude-code"), ("codex", "codex"), ("gemini", "gemini")] {
        let mut firsts = Vec::new();
        for i in 0..args.samples {
            firsts.push(first_event(&daemon, &format!("{name} {i}"), name).await?);
        }
        let f = sorted(firsts);
        figures.push(fig(first_label(label), percentile(&f, 50.0), "ms"));
    }

    // Eight at once, each kept busy by a slow model answer.
    for _ in 0..args.agents {
        mock.push(Family::Anthropic, Turn { delay_ms: 5_000, ..Turn::text("done slowly") });
    }
    let sampler = Sampler::start(daemon.pid)?;
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..args.agents {
        ids.push(daemon.create(&format!("parallel {i}"), "claude").await?);
    }
    for id in &ids {
        wait_settled(&daemon, *id, Duration::from_secs(120)).await?;
    }
    let usage = sampler.finish()?;
    figures.push(fig("8 Claude Code agents: wall time", started.elapsed().as_secs_f64(), "s"));
    figures.push(fig("8 Claude Code agents: daemon peak RSS", usage.peak_rss_mb, "MB"));
    figures.push(fig("8 Claude Code agents: daemon mean CPU", usage.mean_cpu_pct, "%"));
    daemon.stop()?;
    Ok(Report { scenario: "real", params: json!({"samples": args.samples, "agents": args.agents}), figures })
}

fn first_label(runtime: &str) -> &'static str {
    match runtime {
        "claude-code" => "claude-code: created → first CLI event p50",
        "codex" => "codex: created → first CLI event p50",
        _ => "gemini: created → first CLI event p50",
    }
}

/// Milliseconds from `POST /api/tasks` until the task's first event from the CLI
/// itself (bosun's own `running` status excluded), polled every 5 ms.
async fn first_event(daemon: &Daemon, title: &str, agent: &str) -> Result<f64> {
    let t0 = Instant::now();
    let id = daemon.create(title, agent).await?;
    loop {
        let events = daemon.get(&format!("/api/tasks/{id}/events?limit=20")).await?;
        if events.as_array().into_iter().flatten().any(|e| !(e["type"] == "status" && e["status"] == "running")) {
            let first = ms(t0.elapsed());
            wait_settled(daemon, id, Duration::from_secs(120)).await?;
            return Ok(first);
        }
        anyhow::ensure!(t0.elapsed() < Duration::from_secs(60), "no event from {agent} in 60 s{}", daemon.log_tail());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn wait_settled(daemon: &Daemon, id: i64, timeout: Duration) -> Result<()> {
    let since = Instant::now();
    loop {
        let task = daemon.get(&format!("/api/tasks/{id}")).await?;
        match task["status"].as_str() {
            Some("review" | "done") => return Ok(()),
            Some("failed" | "stopped" | "interrupted" | "blocked") => {
                anyhow::bail!("task {id} ended {}: {}", task["status"], task["status_reason"])
            }
            _ => {}
        }
        anyhow::ensure!(since.elapsed() < timeout, "task {id} did not settle in {timeout:?}{}", daemon.log_tail());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
