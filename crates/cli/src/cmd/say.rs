//! `bosun say ID TEXT`: a message for a task's running agent (or its next run).

use serde_json::Value;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

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
    let from = std::env::var("USER").ok();
    let body: Value = ctx.post(&format!("/api/tasks/{}/say", args.id), &serde_json::json!({ "text": args.text, "from": from })).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else if body["delivered"] == "now" {
        println!("delivered to T-{}", args.id);
    } else {
        println!("queued for T-{}'s next run", args.id);
    }
    Ok(())
}
