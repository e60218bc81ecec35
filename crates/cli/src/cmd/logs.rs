//! `bosun logs ID [-f]`: a task's normalized events. With `-f`, follows the live
//! stream until the task's current (or next) run ends, across daemon restarts.

use bosun_api::client::{ClientError, Until};
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
    // The daemon ends the stream once the task has settled. A daemon that goes away
    // (a restart: the agent keeps running) is waited for, and the stream picks up
    // after the last event printed.
    let mut after = args.after;
    let mut away = false;
    loop {
        match ctx.api.follow_events(args.id, after, Until::Settled).await {
            Ok(mut stream) => {
                if away {
                    eprintln!("bosun: the daemon is back; following T-{} again", args.id);
                    away = false;
                }
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(event) => {
                            print_event(ctx, &event);
                            after = event.seq;
                        }
                        Err(e) if gone(&e) => break,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
        match ctx.api.task(args.id).await {
            Ok(task) if task.status.is_settled() => return print_stored(ctx, args.id, after).await,
            Ok(_) => {}
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
        if !away {
            eprintln!("bosun: lost the daemon; waiting for it to come back to follow T-{} (Ctrl-C to stop)", args.id);
            away = true;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// How often a follower whose daemon went away looks for it again.
const RECONNECT: std::time::Duration = std::time::Duration::from_millis(500);

/// The daemon is not there (restarting), as opposed to refusing the request.
fn gone(e: &ClientError) -> bool {
    matches!(e, ClientError::Unreachable { .. } | ClientError::Transport { .. } | ClientError::Stream(_))
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
