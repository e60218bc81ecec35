//! `bosun say ID TEXT`: a message for a task's running agent (or its next run; a
//! stopped, interrupted or failed task is continued with it, as by `reply`).

use bosun_api::{Delivery, SayRequest};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Send a message to a task's agent.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// What to tell it.
    text: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body = ctx.api.say(args.id, &SayRequest { text: args.text, ..Default::default() }).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else {
        match (body.delivered, &body.task) {
            (Delivery::Now, _) => println!("delivered to T-{}", args.id),
            (Delivery::Reopened, Some(task)) => println!("T-{} had ended, so it continues: {}", args.id, output::next_run(task, true)),
            _ => println!("queued for T-{}'s next run", args.id),
        }
    }
    Ok(())
}
