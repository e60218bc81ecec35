//! `bosun accept ID [--to DIR] [--force]`: take a reviewed task's work as it is: its
//! deliverables copied into DIR (refused, nothing copied, where that would overwrite a
//! file, unless --force), then the task is done.

use bosun_api::AcceptRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Accept a task's deliverables (copying them out) and mark it done.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Copy the deliverables into this directory (made if missing), keeping their
    /// paths. Without it they stay with bosun (`bosun open ID PATH`).
    #[arg(long, value_name = "DIR")]
    to: Option<std::path::PathBuf>,
    /// Overwrite files of the same name in DIR.
    #[arg(long)]
    force: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    // The daemon knows no working directory of ours: it gets an absolute path.
    let to = match &args.to {
        Some(dir) => Some(
            std::path::absolute(dir).map_err(|e| Failure(format!("cannot resolve {}: {e}", dir.display())))?.to_string_lossy().into_owned(),
        ),
        None => None,
    };
    let body = ctx.api.accept(args.id, &AcceptRequest { to, force: args.force }).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    match &body.to {
        Some(to) => {
            println!("T-{} done: {} copied to {to}", body.task.id, bosun_core::count(body.copied.len(), "deliverable"));
            for path in &body.copied {
                println!("  {path}");
            }
        }
        None => println!("T-{} done; its deliverables stay with bosun (`bosun open {} PATH`)", body.task.id, body.task.id),
    }
    Ok(())
}
