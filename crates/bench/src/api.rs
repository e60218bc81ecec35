//! `api`: bosun's own agent (`bosun-api-agent`, beside the `bosun` binary) against the
//! mock model's Chat Completions on 127.0.0.1, started directly as the daemon starts it
//! (same arguments, the prompt line on stdin): the time from the process's start to
//! its first model request; the time to take in a long streamed answer, against curl
//! reading the same stream raw (the difference per streamed piece is the runtime's
//! streaming overhead); and the agent's peak RSS.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bosun_mock_model::{Family, MockModel, Script, Turn};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::daemon::Bins;
use crate::{Report, fig, ms, percentile, sorted};

#[derive(clap::Parser)]
pub struct Args {
    /// Agent starts measured.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Pieces (deltas) in the long streamed answer.
    #[arg(long, default_value_t = 20_000)]
    pub pieces: usize,
}

const WAIT: Duration = Duration::from_secs(60);

pub async fn run(bins: &Bins, args: &Args) -> Result<Report> {
    let agent = bins.bosun.with_file_name("bosun-api-agent");
    if !agent.is_file() {
        bail!("{} not found: build with `cargo build --release -p bosun`", agent.display());
    }
    let mock = MockModel::start(Script::new()).await?;
    let dir = std::env::temp_dir().join(format!("bosun-bench-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spawn = || {
        let mut cmd = tokio::process::Command::new(&agent);
        cmd.args(["--provider", "openai-compatible", "--model", "mock-model", "--base-url"])
            .arg(format!("{}/v1", mock.url))
            .arg("--state-dir")
            .arg(&dir)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        cmd.spawn().context("starting bosun-api-agent")
    };
    let prompt = json!({"type": "prompt", "text": "Say done.", "system": "Be brief."}).to_string() + "\n";

    // Start to first request: the empty script answers "done", and the agent exits.
    let mut starts = Vec::new();
    for i in 0..args.samples {
        let t0 = Instant::now();
        let mut child = spawn()?;
        child.stdin.as_mut().context("stdin")?.write_all(prompt.as_bytes()).await?;
        mock.wait_for_requests_for(Family::Chat, i + 1, WAIT).await?;
        starts.push(ms(t0.elapsed()));
        child.wait().await?;
    }

    // The long answer, raw: curl, a process of its own like the agent, reads the stream
    // to its end (its own `time_total`: from before it connects to the last byte).
    let text = "x".repeat(args.pieces);
    mock.push(Family::Chat, Turn::text(text.clone()).split(1));
    let body = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "raw"}]}).to_string();
    let curl = tokio::process::Command::new("curl")
        .args(["-sS", "-N", "-o", "/dev/null", "-w", "%{time_total}", "-H", "content-type: application/json", "--data-binary", &body])
        .arg(format!("{}/v1/chat/completions", mock.url))
        .output()
        .await
        .context("running curl for the raw read")?;
    let raw_secs: f64 = String::from_utf8_lossy(&curl.stdout).trim().parse().context("curl's time_total")?;
    let raw = Duration::from_secs_f64(raw_secs);

    // The same answer through the agent: from its request to its message event. A
    // slow last turn keeps it alive to read its peak RSS.
    mock.push(Family::Chat, Turn::tool("list", json!({})).and(bosun_mock_model::Block::Text(text.clone())).split(1));
    mock.push(Family::Chat, Turn { delay_ms: 3_000, ..Turn::text("done") });
    let before = mock.requests_for(Family::Chat).len();
    let mut child = spawn()?;
    let pid = child.id().context("the agent's pid")?;
    child.stdin.as_mut().context("stdin")?.write_all(prompt.as_bytes()).await?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
    mock.wait_for_requests_for(Family::Chat, before + 1, WAIT).await?;
    let t0 = Instant::now();
    let mut through = None;
    while let Some(line) = lines.next_line().await? {
        if through.is_none() && line.contains(r#""type":"message""#) {
            through = Some(t0.elapsed());
        }
        if line.contains(r#""type":"tool_result""#) {
            break;
        }
    }
    let through = through.context("the agent printed no message")?;
    mock.wait_for_requests_for(Family::Chat, before + 2, WAIT).await?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")?.split_whitespace().next()?.parse().ok()).context("VmHWM")?;
    child.wait().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let starts = sorted(starts);
    let per_piece_us = (through.as_secs_f64() - raw.as_secs_f64()) * 1e6 / args.pieces as f64;
    Ok(Report {
        scenario: "api",
        params: json!({"samples": args.samples, "pieces": args.pieces}),
        figures: vec![
            fig("agent start → first model request p50", percentile(&starts, 50.0), "ms"),
            fig("agent start → first model request p95", percentile(&starts, 95.0), "ms"),
            fig("long answer read raw", ms(raw), "ms"),
            fig("long answer through the agent", ms(through), "ms"),
            fig("streaming overhead per piece", per_piece_us, "µs"),
            fig("agent peak RSS (VmHWM)", hwm_kb / 1024.0, "MB").at_most(15.0),
        ],
    })
}
