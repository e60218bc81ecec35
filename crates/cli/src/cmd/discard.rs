//! `bosun discard ID [--yes]`: give up on a task; it becomes `discarded` and its
//! worktree and branch are removed. When that would lose work it asks first on a
//! terminal, and elsewhere refuses without `--yes`, saying what would be lost.

use std::io::{BufRead, IsTerminal, Write};

use bosun_api::DiscardRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Give up on a task: remove its worktree and branch; it becomes discarded.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Discard unmerged commits and uncommitted changes without asking.
    #[arg(long)]
    yes: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let mut yes = args.yes;
    // On a terminal, ask; elsewhere the daemon refuses and says what would be lost.
    if !yes
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
        && let Some(summary) = ctx.api.loss(args.id).await?.summary
    {
        if !ask(&format!("T-{} has {summary}. Discard them? [y/N] ", args.id))? {
            return Err(Failure(format!("T-{} was not discarded", args.id)));
        }
        yes = true;
    }
    let body = ctx.api.discard(args.id, &DiscardRequest { yes }).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    println!("T-{} discarded", body.task.id);
    for note in &body.removed {
        println!("  {note}");
    }
    Ok(())
}

/// Asks on stderr; true for an answer starting with y.
fn ask(question: &str) -> Result<bool, Failure> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim_start().to_lowercase().starts_with('y'))
}
