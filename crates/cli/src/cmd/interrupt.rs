//! `bosun interrupt ID`: cut the running agent's current turn short (it winds down
//! by itself; `bosun stop` kills it instead).

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Interrupt a running agent's current turn.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.interrupt(args.id).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("T-{} interrupting", task.id);
    }
    Ok(())
}
