//! `bosun retry ID`: run a failed, stopped or interrupted task again, in its worktree:
//! in a new agent session (one the daemon cut off continues its session). A task in
//! triage is given its agent this way (`--agent`).

use bosun_api::RetryRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Start a failed, stopped or interrupted task over, in a new agent session (a task
/// the daemon cut off continues its session; `reply` continues any).
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Use another agent profile this time (for a task in triage: its agent).
    #[arg(long)]
    agent: Option<String>,
    /// Run it with this model from now on.
    #[arg(long)]
    model: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.retry(args.id, &RetryRequest { agent: args.agent, model: args.model }).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("{}", output::next_run(&task, false));
    }
    Ok(())
}
