//! `bosun ls`: the tasks, as a table or (`--json`) an array of task objects.

use bosun_api::TaskQuery;

use crate::Failure;
use crate::client::Ctx;
use crate::output;

/// List tasks.
#[derive(clap::Args)]
pub struct Args {
    /// Only these statuses (comma-separated, e.g. running,review).
    #[arg(long)]
    status: Option<String>,
    /// Only tasks of this repo (its root path).
    #[arg(long)]
    repo: Option<String>,
    /// Only tasks of this agent profile.
    #[arg(long)]
    agent: Option<String>,
    /// Only tasks with this tag.
    #[arg(long)]
    tag: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let query = TaskQuery { status: args.status, repo: args.repo, agent: args.agent, tag: args.tag, ..TaskQuery::default() };
    let tasks = ctx.api.list_tasks(&query).await?;
    if ctx.json {
        ctx.print_json(&tasks);
    } else if tasks.is_empty() {
        println!("no tasks");
    } else {
        output::task_table(&tasks);
    }
    Ok(())
}
