//! `bosun ls`: the tasks, as a table (with why each is where it is: what a queued one
//! waits for, what a needs_input one asks, why one failed) or (`--json`) an array of
//! task objects.

use bosun_api::TaskQuery;
use bosun_core::TaskStatus;

use crate::Failure;
use crate::client::{Ctx, repo_root};
use crate::output;

/// List tasks.
#[derive(clap::Args)]
pub struct Args {
    /// Only these statuses (comma-separated, e.g. running,review).
    #[arg(long, value_delimiter = ',', value_parser = status_parser())]
    status: Vec<TaskStatus>,
    /// Only tasks of this repo (any directory inside it: `--repo .`).
    #[arg(long)]
    repo: Option<std::path::PathBuf>,
    /// Only tasks of this agent profile.
    #[arg(long)]
    agent: Option<String>,
    /// Only tasks with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only archived tasks (`bosun archive`), which are otherwise left out.
    #[arg(long)]
    archived: bool,
}

/// A status name, one of those clap lists in its usage error.
fn status_parser() -> impl clap::builder::TypedValueParser<Value = TaskStatus> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(TaskStatus::ALL.map(TaskStatus::as_str))
        .map(|s| TaskStatus::parse(&s).expect("a listed status"))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let repo = match &args.repo {
        Some(dir) => Some(repo_root(dir)?.ok_or_else(|| Failure(format!("{} is not in a git repository", dir.display())))?),
        None => None,
    };
    let status = (!args.status.is_empty()).then(|| args.status.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
    let query = TaskQuery { status, repo, agent: args.agent, tag: args.tag, archived: args.archived, ..TaskQuery::default() };
    let tasks = ctx.api.list_tasks(&query).await?;
    if ctx.json {
        ctx.print_json(&tasks);
    } else if tasks.is_empty() {
        println!("no tasks");
    } else {
        let asks = if tasks.iter().any(|t| t.status == TaskStatus::NeedsInput) { ctx.api.approvals(None).await? } else { Vec::new() };
        output::task_table(&tasks, &asks);
    }
    Ok(())
}
