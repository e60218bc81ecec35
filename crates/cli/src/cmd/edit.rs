//! `bosun edit ID [--title T] [--body B] [--tag X]... [--priority N] [--agent NAME]`:
//! change a task that is still queued (what is not given stays).

use bosun_api::EditRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Change a queued task: its title, body, tags, priority or agent.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    body: Option<String>,
    /// The task's tags (all of them; repeat the flag; `--tag ''` alone clears them).
    #[arg(long = "tag")]
    tags: Option<Vec<String>>,
    #[arg(long, allow_hyphen_values = true)]
    priority: Option<i64>,
    /// An agent profile (empty: route by tags).
    #[arg(long)]
    agent: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let tags = args.tags.map(|t| t.into_iter().filter(|x| !x.is_empty()).collect());
    let req = EditRequest { title: args.title, body: args.body, tags, priority: args.priority, agent: args.agent };
    let task = ctx.api.edit(args.id, &req).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("T-{} edited: {} (agent {})", task.id, task.title, task.agent.as_deref().unwrap_or("routed by tags"));
    }
    Ok(())
}
