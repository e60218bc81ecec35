//! `bosun rebase ID`: rebase the task branch onto its moved base, in its worktree.

use serde_json::Value;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Rebase a task's branch onto its base (conflicts are left in the worktree).
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body: Value = ctx.post(&format!("/api/tasks/{}/rebase", args.id), &serde_json::json!({})).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else if body["outcome"] == "rebased" {
        println!("T-{} rebased, now at {}", args.id, body["head"].as_str().unwrap_or(""));
    } else {
        println!("T-{} is already up to date with its base", args.id);
    }
    Ok(())
}
