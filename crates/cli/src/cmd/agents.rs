//! `bosun agents`: the agent profiles found, their runtime, and whether that
//! runtime's CLI is installed (and which version).

use std::path::PathBuf;

use serde_json::Value;

use crate::Failure;
use crate::client::Ctx;

/// List agent profiles and their runtimes.
#[derive(clap::Args)]
pub struct Args {
    /// Also list this repo's profiles (`.bosun/agents`).
    #[arg(long)]
    repo: Option<PathBuf>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let mut query = Vec::new();
    if let Some(repo) = &args.repo {
        let repo = std::fs::canonicalize(repo).map_err(|e| Failure(format!("repo {}: {e}", repo.display())))?;
        query.push(("repo", repo.to_string_lossy().into_owned()));
    }
    let resp = ctx.http.get(ctx.url("/api/agents")).query(&query).send().await.map_err(|e| ctx.unreachable(e))?;
    let body: Value = crate::client::json_or_error(resp).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    let agents = body["agents"].as_array().cloned().unwrap_or_default();
    if agents.is_empty() {
        println!("no agent profiles (add Markdown files to ~/.config/bosun/agents/ or <repo>/.bosun/agents/)");
    }
    for a in &agents {
        let i = &a["installed"];
        let state = if i["ok"] == true {
            format!("{} {}", i["path"].as_str().unwrap_or(""), i["version"].as_str().unwrap_or(""))
        } else {
            format!("MISSING: {}", i["problem"].as_str().unwrap_or(""))
        };
        println!(
            "{:<16} {:<12} {:<18} {}",
            a["name"].as_str().unwrap_or(""),
            a["runtime"].as_str().unwrap_or(""),
            a["model"].as_str().unwrap_or("-"),
            state.trim()
        );
    }
    for b in body["broken"].as_array().into_iter().flatten() {
        println!("BROKEN {}: {}", b["path"].as_str().unwrap_or(""), b["error"].as_str().unwrap_or(""));
    }
    Ok(())
}
