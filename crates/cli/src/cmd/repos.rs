//! `bosun repos`: the repositories bosun knows, with their task counts.

use crate::Failure;
use crate::client::Ctx;

/// List the repositories with tasks.
#[derive(clap::Args)]
pub struct Args {}

pub async fn run(ctx: &Ctx, _args: Args) -> Result<(), Failure> {
    let repos = ctx.api.repos().await?;
    if ctx.json {
        ctx.print_json(&repos);
        return Ok(());
    }
    if repos.is_empty() {
        println!("no repos yet");
    }
    for r in &repos {
        let counts: Vec<String> = r.by_status.iter().map(|(status, n)| format!("{n} {status}")).collect();
        println!("{}  {}: {}", r.repo, bosun_core::count(r.tasks as usize, "task"), counts.join(", "));
    }
    Ok(())
}
