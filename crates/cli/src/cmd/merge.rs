//! `bosun merge ID`: merge a reviewed task's branch into its base; the task is done.

use bosun_api::{MergeRequest, MergeResult};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Merge a task's branch into its base branch.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// How to bring the branch in.
    #[arg(long, value_parser = ["squash", "merge", "rebase"], default_value = "squash")]
    strategy: String,
    /// The commit message (squash and merge; default: the task's title and body).
    #[arg(long, short)]
    message: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body = ctx.api.merge(args.id, &MergeRequest { strategy: Some(args.strategy), message: args.message }).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    let (t, base) = (&body.task, body.task.base.as_deref().unwrap_or("the base"));
    match (body.result, &body.commit) {
        (MergeResult::Merged, Some(c)) => {
            println!("T-{} merged into {base} as {} ({})", t.id, &c[..c.len().min(12)], body.strategy.as_deref().unwrap_or(""))
        }
        (MergeResult::AlreadyInBase, _) => println!("T-{} done: already in {base}, nothing to merge", t.id),
        (MergeResult::NoChanges, _) => println!("T-{} done: no changes, nothing merged into {base}", t.id),
        _ => println!("T-{} done", t.id),
    }
    for note in &body.cleanup {
        println!("  {note}");
    }
    Ok(())
}
