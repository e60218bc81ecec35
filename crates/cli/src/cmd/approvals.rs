//! `bosun approvals`, `bosun approve ID [--always]`, `bosun deny ID [--reason R]`:
//! the permission asks agents are waiting on, and the answers.

use bosun_api::{AnswerBody, AnswerRequest};

use crate::Failure;
use crate::client::{Ctx, parse_task_id};
use crate::output::{ask, clip, rough_age, visible};

/// List every pending permission ask.
#[derive(clap::Args)]
pub struct ListArgs {}

/// Allow what a task's agent asked for.
#[derive(clap::Args)]
pub struct ApproveArgs {
    /// Task id (12 or T-12).
    #[arg(value_parser = parse_task_id)]
    id: i64,
    /// Also allow exactly this from now on, for the agent's profile in this task's
    /// repo (`bosun approvals` shows the rule it saves). A command that chains, pipes,
    /// substitutes or redirects gets no rule: it is asked about each time.
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
    let pending = ctx.api.approvals(None).await?;
    if ctx.json {
        ctx.print_json(&pending);
        return Ok(());
    }
    if pending.is_empty() {
        println!("no pending approvals");
        return Ok(());
    }
    // The task id leads: it is what `approve` and `deny` take (the approval's own
    // number only tells apart several asks of one task).
    println!("{:<7} {:<9} {:>4}  {:<14} ASK", "TASK", "APPROVAL", "AGE", "AGENT");
    for p in &pending {
        let a = &p.approval;
        println!(
            "{:<7} {:<9} {:>4}  {:<14} {}  ({})",
            format!("T-{}", a.task_id),
            format!("#{}", a.id),
            rough_age(a.created_at),
            clip(p.agent.as_deref().unwrap_or("-"), 14),
            visible(&clip(&ask(a), 100)),
            visible(&clip(&p.title, 40))
        );
        let several = pending.iter().filter(|q| q.approval.task_id == a.task_id).count() > 1;
        let which = if several { format!(" --approval {}", a.id) } else { String::new() };
        println!("{:<35} answer: bosun approve {}{which} / bosun deny {}{which}", "", a.task_id, a.task_id);
        match &p.always {
            Some(rule) => println!("{:<35} --always saves {rule}", ""),
            None => println!("{:<35} --always cannot cover this: it will be asked each time", ""),
        }
    }
    Ok(())
}

pub async fn approve(ctx: &Ctx, args: ApproveArgs) -> Result<(), Failure> {
    let req = AnswerRequest { id: args.approval, always: args.always, reason: None, from: None };
    let a = ctx.api.approve(args.id, &req).await?;
    print_answer(ctx, &a, args.always);
    Ok(())
}

pub async fn deny(ctx: &Ctx, args: DenyArgs) -> Result<(), Failure> {
    let req = AnswerRequest { id: args.approval, always: false, reason: args.reason, from: None };
    let a = ctx.api.deny(args.id, &req).await?;
    print_answer(ctx, &a, false);
    Ok(())
}

fn print_answer(ctx: &Ctx, body: &AnswerBody, always: bool) {
    let a = &body.approval;
    if ctx.json {
        return ctx.print_json(body);
    }
    println!("T-{} {} {}", a.task_id, a.status.as_str(), visible(&ask(a)));
    match (&body.saved_rule, always) {
        (Some(rule), _) => println!("saved rule {rule} (this agent, this task's repo)"),
        (None, true) => println!(
            "no rule saved: this ask cannot be covered by one (it chains, pipes, substitutes or redirects), so it will be asked again"
        ),
        (None, false) => {}
    }
}
