//! `bosun logs ID [-f]`: a task's normalized events. With `-f`, follows the live
//! stream until the task's current (or next) run ends.

use bosun_api::client::Until;
use bosun_core::Event;
use futures_util::StreamExt;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Show a task's events.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Follow live until the run ends.
    #[arg(short, long)]
    follow: bool,
    /// Only events after this sequence number.
    #[arg(long, default_value_t = 0)]
    after: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.task(args.id).await?;
    if !args.follow || task.status.is_settled() {
        return print_stored(ctx, args.id, args.after).await;
    }
    // The daemon ends the stream once the task has settled.
    let mut stream = ctx.api.follow_events(args.id, args.after, Until::Settled).await?;
    while let Some(event) = stream.next().await {
        print_event(ctx, &event?);
    }
    let task = ctx.api.task(args.id).await?;
    if task.status.is_settled() {
        Ok(())
    } else {
        Err(Failure(format!("the event stream ended while T-{} is {} (is the daemon shutting down?)", task.id, task.status)))
    }
}

async fn print_stored(ctx: &Ctx, id: i64, mut after: i64) -> Result<(), Failure> {
    const PAGE: i64 = 1000;
    loop {
        let events = ctx.api.events(id, after, PAGE).await?;
        for e in &events {
            print_event(ctx, e);
            after = e.seq;
        }
        if (events.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

fn print_event(ctx: &Ctx, e: &Event) {
    if ctx.json {
        ctx.print_json(e);
    } else {
        println!("{}", output::event_line(e));
    }
}
