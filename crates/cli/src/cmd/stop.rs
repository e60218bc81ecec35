//! `bosun stop ID`: interrupt a running agent (or cancel a queued task). The
//! worktree and everything the agent wrote stay.

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Stop a running or queued task.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.stop(args.id).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("T-{} {}", task.id, task.status);
    }
    Ok(())
}
