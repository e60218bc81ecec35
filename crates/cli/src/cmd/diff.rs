//! `bosun diff ID`: what the agent changed on its branch against the base; for a task
//! without a repo, its deliverables against the run before.

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Show a task's changes.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Only list the changed files.
    #[arg(long)]
    stat: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body = ctx.api.diff(args.id).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    if body.branch.is_none() && !body.diff.is_empty() && !args.stat {
        eprintln!("(no repo: its deliverables against the run before)");
        print!("{}", body.diff);
        return Ok(());
    }
    if body.branch.is_none() {
        println!("(no repo: files in the task's workspace)");
        for f in &body.files {
            println!("{f}");
        }
        return Ok(());
    }
    if args.stat || body.diff.is_empty() {
        for f in &body.files {
            println!("{f}");
        }
        if body.files.is_empty() {
            eprintln!("no changes on {} against {}", body.branch.unwrap_or_default(), body.base.unwrap_or_default());
        }
    } else {
        print!("{}", body.diff);
    }
    if !body.uncommitted.is_empty() {
        eprintln!("uncommitted in the worktree (not shown): {}", body.uncommitted.join(", "));
    }
    Ok(())
}
