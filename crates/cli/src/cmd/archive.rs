//! `bosun archive ID... | --all`: hide done or discarded tasks from `ls` and the
//! board (`ls --archived` lists them).

use bosun_api::ArchiveRequest;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Hide done or discarded tasks from `ls` and the board.
#[derive(clap::Args)]
pub struct Args {
    /// Task ids (12 or T-12).
    #[arg(value_parser = parse_task_id, required_unless_present = "all", conflicts_with = "all")]
    ids: Vec<i64>,
    /// Every done or discarded task.
    #[arg(long)]
    all: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body = ctx.api.archive(&ArchiveRequest { ids: args.ids, all: args.all }).await?;
    if ctx.json {
        ctx.print_json(&body);
    } else if body.archived.is_empty() {
        println!("nothing to archive");
    } else {
        let ids: Vec<String> = body.archived.iter().map(|id| format!("T-{id}")).collect();
        println!("archived {}", ids.join(" "));
    }
    Ok(())
}
