//! `bosun approvals`, `bosun approve ID [--always]`, `bosun deny ID [--reason R]`:
//! the permission asks agents are waiting on, and the answers.

use bosun_api::AnswerRequest;
use bosun_core::Approval;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output::clip;

/// List every pending permission ask.
#[derive(clap::Args)]
pub struct ListArgs {}

/// Allow what a task's agent asked for.
#[derive(clap::Args)]
pub struct ApproveArgs {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Also allow this tool/command pattern from now on, for the agent's profile.
    #[arg(long)]
    always: bool,
    /// Which approval (default: the task's oldest pending one).
    #[arg(long)]
    approval: Option<i64>,
}

/// Refuse what a task's agent asked for.
#[derive(clap::Args)]
pub struct DenyArgs {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Why (the agent is told).
    #[arg(long)]
    reason: Option<String>,
    /// Which approval (default: the task's oldest pending one).
    #[arg(long)]
    approval: Option<i64>,
}

pub async fn list(ctx: &Ctx, _args: ListArgs) -> Result<(), Failure> {
    let pending = ctx.api.approvals().await?;
    if ctx.json {
        ctx.print_json(&pending);
        return Ok(());
    }
    if pending.is_empty() {
        println!("no pending approvals");
    }
    for p in &pending {
        let a = &p.approval;
        // `T-{id}` unpadded: as these lines have always been printed.
        println!(
            "T-{} {:<14} {:<10} {}  ({})",
            a.task_id,
            clip(p.agent.as_deref().unwrap_or("-"), 14),
            a.tool,
            clip(what(a), 100),
            clip(&p.title, 40)
        );
    }
    Ok(())
}

pub async fn approve(ctx: &Ctx, args: ApproveArgs) -> Result<(), Failure> {
    let req = AnswerRequest { id: args.approval, always: args.always, reason: None };
    let a = ctx.api.approve(args.id, &req).await?;
    print_answer(ctx, &a);
    Ok(())
}

pub async fn deny(ctx: &Ctx, args: DenyArgs) -> Result<(), Failure> {
    let req = AnswerRequest { id: args.approval, always: false, reason: args.reason };
    let a = ctx.api.deny(args.id, &req).await?;
    print_answer(ctx, &a);
    Ok(())
}

fn print_answer(ctx: &Ctx, a: &Approval) {
    if ctx.json {
        ctx.print_json(a);
    } else {
        println!("T-{} {} {} {}", a.task_id, a.status.as_str(), a.tool, what(a));
    }
}

/// The command asked for, else the path, else nothing.
fn what(a: &Approval) -> &str {
    a.command.as_deref().or(a.path.as_deref()).unwrap_or("")
}
