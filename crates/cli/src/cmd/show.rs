//! `bosun show ID`: one task: status, branch, worktree, runs, exit codes, timings.

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Show one task in full.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.task(args.id).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        output::task_details(&task);
    }
    Ok(())
}
