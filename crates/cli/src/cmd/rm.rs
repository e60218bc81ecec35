//! `bosun rm ID [--force]`: remove a task's worktree and branch, refusing while
//! that would lose unmerged commits or uncommitted changes. A task that is not done
//! is discarded with them (`bosun discard`).

use bosun_api::RmRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Remove a task's worktree and branch (a task that is not done is discarded).
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
    let body = ctx.api.rm(args.id, &RmRequest { force: args.force }).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else {
        for note in &body.removed {
            println!("{note}");
        }
    }
    Ok(())
}
