//! `bosun rm ID [--force]`: remove a task's worktree and branch, refusing while
//! that would lose unmerged commits or uncommitted changes.

use serde_json::Value;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Remove a task's worktree and branch.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Discard unmerged commits and uncommitted changes.
    #[arg(long)]
    force: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body: Value = ctx.post(&format!("/api/tasks/{}/rm", args.id), &serde_json::json!({ "force": args.force })).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else {
        for note in body["removed"].as_array().into_iter().flatten() {
            println!("{}", note.as_str().unwrap_or_default());
        }
    }
    Ok(())
}
