//! `bosun reply ID TEXT [--resolve]`: feedback on a task in review, or more to do for
//! a stopped, interrupted or failed one; the same agent session continues in the same
//! worktree. `--resolve` asks it to resolve the conflicts a rebase left there
//! (otherwise such a worktree is refused).

use bosun_api::SayRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Continue a task in review, stopped, interrupted or failed: its agent session
/// resumes with your message.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// The message (feedback, or what to do next).
    text: String,
    /// The agent is to resolve the conflicts a rebase or merge left in the worktree.
    #[arg(long)]
    resolve: bool,
    /// Run it with this model from now on.
    #[arg(long)]
    model: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.reply(args.id, &SayRequest { text: args.text, from: None, resolve: args.resolve, model: args.model }).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("{}", output::next_run(&task, true));
    }
    Ok(())
}
