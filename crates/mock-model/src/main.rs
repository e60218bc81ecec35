//! The mock model server as a program, for trying the agent CLIs by hand:
//! `bosun-mock-model --port N --script FILE` prints `listening http://ADDR`, then serves
//! until killed, logging one line per request on stderr.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use bosun_mock_model::{MockModel, Script};
use clap::Parser;

/// A scripted mock of the Anthropic, OpenAI Responses and Gemini APIs.
#[derive(Parser)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON script: {"anthropic": [turns], "openai": [..], "gemini": [..], "gemini_side": [..]}.
    #[arg(long)]
    script: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Script::from_json(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Script::new(),
    };
    let mock = MockModel::start_on(SocketAddr::from(([127, 0, 0, 1], args.port)), script).await?;
    println!("listening {}", mock.url);
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            got = mock.wait_for_requests(seen + 1, Duration::from_secs(3600)) => {
                for r in got.unwrap_or_default().iter().skip(seen) {
                    let query = r.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
                    let exhausted = if r.script_exhausted { " (script exhausted)" } else { "" };
                    eprintln!("#{} {} {}{} -> {}{}", r.seq, r.method, r.path, query, r.status, exhausted);
                    seen = r.seq + 1;
                }
            }
        }
    }
}
