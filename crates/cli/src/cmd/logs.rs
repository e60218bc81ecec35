//! `bosun logs ID [-f]`: a task's normalized events. With `-f`, follows the live
//! stream until the task's current (or next) run ends.

use bosun_core::{Event, Task};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;

use crate::Failure;
use crate::client::{Ctx, json_or_error, parse_task_id};
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
    let task: Task = ctx.get(&format!("/api/tasks/{}", args.id)).await?;
    if !args.follow || task.status.is_settled() {
        return print_stored(ctx, args.id, args.after).await;
    }
    let resp = ctx
        .http
        .get(ctx.url(&format!("/api/tasks/{}/events", args.id)))
        .query(&[("after", args.after.to_string()), ("until", "settled".to_string())])
        .header("accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| ctx.unreachable(e))?;
    if !resp.status().is_success() {
        return json_or_error::<()>(resp).await;
    }
    // The daemon ends the stream once the task has settled.
    let mut stream = resp.bytes_stream().eventsource();
    while let Some(msg) = stream.next().await {
        let msg = msg.map_err(|e| Failure(format!("event stream broke: {e}")))?;
        let event: Event = serde_json::from_str(&msg.data).map_err(|e| Failure(format!("bad event from the daemon: {e}")))?;
        print_event(ctx, &event);
    }
    let task: Task = ctx.get(&format!("/api/tasks/{}", args.id)).await?;
    if task.status.is_settled() {
        Ok(())
    } else {
        Err(Failure(format!("the event stream ended while T-{} is {} (is the daemon shutting down?)", task.id, task.status)))
    }
}


async fn print_stored(ctx: &Ctx, id: i64, mut after: i64) -> Result<(), Failure> {
    const PAGE: usize = 1000;
    loop {
        let events: Vec<Event> = ctx.get(&format!("/api/tasks/{id}/events?after={after}&limit={PAGE}")).await?;
        for e in &events {
            print_event(ctx, e);
            after = e.seq;
        }
        if events.len() < PAGE {
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
