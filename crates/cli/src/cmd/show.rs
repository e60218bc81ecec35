//! `bosun show ID`: one task: status, what it waits for (a queued one's reason, a
//! needs_input one's asks and how to answer them), branch, worktree, runs, exit codes,
//! timings.

use bosun_core::TaskStatus;

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
        let asks = if task.status == TaskStatus::NeedsInput { ctx.api.approvals(Some(task.id)).await? } else { Vec::new() };
        output::task_details(&task, &asks);
    }
    Ok(())
}
