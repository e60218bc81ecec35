//! `bosun rebase ID`: rebase the task branch onto its moved base, in its worktree.

use bosun_api::RebaseOutcome;

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
    let body = ctx.api.rebase(args.id).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else if body.outcome == RebaseOutcome::Rebased {
        println!("T-{} rebased, now at {}", args.id, body.head.as_deref().unwrap_or(""));
    } else {
        println!("T-{} is already up to date with its base", args.id);
    }
    Ok(())
}
