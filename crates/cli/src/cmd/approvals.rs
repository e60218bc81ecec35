//! `bosun approvals`, `bosun approve ID [--always]`, `bosun deny ID [--reason R]`:
//! the permission asks agents are waiting on, and the answers.

use serde_json::Value;

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
    let pending: Vec<Value> = ctx.get("/api/approvals").await?;
    if ctx.json {
        ctx.print_json(&pending);
        return Ok(());
    }
    if pending.is_empty() {
        println!("no pending approvals");
    }
    for a in &pending {
        let what = a["command"].as_str().or(a["path"].as_str()).unwrap_or("");
        println!(
            "T-{:<5} {:<14} {:<10} {}  ({})",
            a["task_id"],
            clip(a["agent"].as_str().unwrap_or("-"), 14),
            a["tool"].as_str().unwrap_or(""),
            clip(what, 100),
            clip(a["title"].as_str().unwrap_or(""), 40)
        );
    }
    Ok(())
}

pub async fn approve(ctx: &Ctx, args: ApproveArgs) -> Result<(), Failure> {
    let body = serde_json::json!({ "always": args.always, "id": args.approval });
    let a: Value = ctx.post(&format!("/api/tasks/{}/approve", args.id), &body).await?;
    print_answer(ctx, &a);
    Ok(())
}

pub async fn deny(ctx: &Ctx, args: DenyArgs) -> Result<(), Failure> {
    let body = serde_json::json!({ "reason": args.reason, "id": args.approval });
    let a: Value = ctx.post(&format!("/api/tasks/{}/deny", args.id), &body).await?;
    print_answer(ctx, &a);
    Ok(())
}

fn print_answer(ctx: &Ctx, a: &Value) {
    if ctx.json {
        ctx.print_json(a);
    } else {
        println!("T-{} {} {} {}", a["task_id"], a["status"].as_str().unwrap_or(""), a["tool"].as_str().unwrap_or(""), a["command"].as_str().or(a["path"].as_str()).unwrap_or(""));
    }
}
