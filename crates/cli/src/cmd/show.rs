//! `bosun show ID`: one task: status, what it waits for (a queued one's reason, a
//! needs_input one's asks and how to answer them), branch, worktree, runs, exit codes,
//! timings; its deliverables with sizes and descriptions.

use bosun_core::TaskStatus;
use bosun_core::deliverable::{Deliverable, DeliverableChange};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output;

/// Show one task in full.
#[derive(clap::Args)]
pub struct Args {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let task = ctx.api.task(args.id).await?;
    if ctx.json {
        ctx.print_json(&task);
    } else {
        let asks = if task.status == TaskStatus::NeedsInput { ctx.api.approvals(Some(task.id)).await? } else { Vec::new() };
        output::task_details(&task, &asks);
        let delivered = ctx.api.deliverables(task.id).await?.latest;
        deliverables(task.id, &delivered);
    }
    Ok(())
}

/// Each path's latest delivery: path, size, description, and how to get at them.
fn deliverables(id: i64, latest: &[Deliverable]) {
    if latest.is_empty() {
        return;
    }
    println!("deliverables:");
    let width = latest.iter().map(|d| d.path.chars().count()).max().unwrap_or(0).min(48);
    for d in latest {
        let about = d.description.as_deref().map(|s| format!("  {}", output::visible(s))).unwrap_or_default();
        let change = match d.change {
            DeliverableChange::Added => String::new(),
            change => format!("  ({} in run {})", change.as_str(), d.run_id),
        };
        println!("  {:<width$}  {:>9}{about}{change}", output::visible(&d.path), size(d.size));
    }
    println!("  (`bosun open {id} PATH` shows one; `bosun accept {id} --to DIR` copies them out and closes the task)");
}

/// Bytes as people read them: 812 B, 1.2 KiB, 3.4 MiB.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}
