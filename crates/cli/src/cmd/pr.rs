//! `bosun pr ID [--draft]`: push the task branch and open a pull request; its URL is
//! stored on the task. `--refresh` reads its state (a merged PR makes the task done).

use bosun_api::PrRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Open (or refresh) a pull request for a task's branch.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Open it as a draft.
    #[arg(long)]
    draft: bool,
    /// Only read the state of the existing pull request.
    #[arg(long, conflicts_with = "draft")]
    refresh: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.pr(args.id, &PrRequest { draft: args.draft, refresh: args.refresh }).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else if let Some(pr) = &task.pr {
        println!("{}", pr.url);
        println!(
            "T-{} pull request #{} {}{} (task {})",
            task.id,
            pr.number,
            pr.state.as_str(),
            if pr.draft { ", draft" } else { "" },
            task.status
        );
    }
    Ok(())
}
