//! `bosun after ID DEP...`: make a queued task also wait for other tasks.

use bosun_api::AfterRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Make a queued or blocked task wait for other tasks (refuses cycles).
#[derive(clap::Args)]
pub struct Args {
    /// The task that should wait.
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// The tasks it waits for.
    #[arg(required = true, value_parser = parse_task_id)]
    deps: Vec<i64>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.after(args.id, &AfterRequest { after: args.deps }).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        let deps: Vec<String> = task.after.iter().map(|d| format!("T-{d}")).collect();
        println!("T-{} waits for {}", task.id, deps.join(", "));
    }
    Ok(())
}
