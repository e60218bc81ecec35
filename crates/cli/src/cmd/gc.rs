//! `bosun gc [--yes]`: list (and remove) worktrees of merged or abandoned tasks;
//! never one holding unmerged or uncommitted work.

use serde_json::Value;

use crate::Failure;
use crate::client::Ctx;

/// Clean up worktrees of merged or abandoned tasks.
#[derive(clap::Args)]
pub struct Args {
    /// Remove them (without it, only list).
    #[arg(long)]
    yes: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let items: Vec<Value> = ctx.post("/api/gc", &serde_json::json!({ "yes": args.yes })).await?;
    if ctx.json {
        ctx.print_json(&items);
        return Ok(());
    }
    if items.is_empty() {
        println!("nothing to clean up");
    }
    for item in &items {
        let path = item["worktree"].as_str().or(item["branch"].as_str()).unwrap_or("");
        println!("T-{:<5} {:<8} {}  ({})", item["task_id"], item["action"].as_str().unwrap_or(""), path, item["reason"].as_str().unwrap_or(""));
    }
    if !args.yes && items.iter().any(|i| i["action"] == "remove") {
        println!("run `bosun gc --yes` to remove them");
    }
    Ok(())
}
