//! `bosun gc [--yes]`: list (and remove) worktrees of merged, failed, stopped or
//! interrupted tasks; never one holding unmerged or uncommitted work.

use bosun_api::{GcAction, GcRequest};

use crate::Failure;
use crate::client::Ctx;

/// Clean up worktrees of merged, failed, stopped or interrupted tasks.
#[derive(clap::Args)]
pub struct Args {
    /// Remove them (without it, only list).
    #[arg(long)]
    yes: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let items = ctx.api.gc(&GcRequest { yes: args.yes }).await?;
    if ctx.json {
        ctx.print_json(&items);
        return Ok(());
    }
    if items.is_empty() {
        println!("nothing to clean up");
    }
    for item in &items {
        // `T-{id}` unpadded: as these lines have always been printed. A removal says
        // exactly what went (the worktree, the branch or both).
        if item.action == GcAction::Removed {
            println!("T-{} {}", item.task_id, item.reason);
            continue;
        }
        let path = item.worktree.as_deref().or(item.branch.as_deref()).unwrap_or("");
        println!("T-{} {:<8} {}  ({})", item.task_id, action_name(item.action), path, item.reason);
    }
    if !args.yes && items.iter().any(|i| i.action == GcAction::Remove) {
        println!("run `bosun gc --yes` to remove them");
    }
    Ok(())
}

fn action_name(action: GcAction) -> &'static str {
    match action {
        GcAction::Remove => "remove",
        GcAction::Removed => "removed",
        GcAction::Keep => "keep",
    }
}
