//! `bosun budget`: each budget with its limit, what is spent and reserved against it,
//! and what remains. `bosun budget raise T-3 [DOLLARS]`: set a task's budget, and let
//! a task its budget stopped continue.

use bosun_api::cost::RaiseRequest;
use bosun_core::TaskStatus;

use crate::Failure;
use crate::client::{Ctx, parse_task_id};

/// Budgets: limits on what agents spend.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Set a task's budget (dollars, for all its runs); a task its budget stopped
    /// continues, and one blocked by a budget starts once it fits. Without DOLLARS, it
    /// goes on under the budgets as they are now (after you raised one in routing.toml).
    Raise {
        /// Task id (12 or T-12).
        #[arg(value_parser = parse_task_id)]
        id: i64,
        dollars: Option<f64>,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    if let Some(Sub::Raise { id, dollars }) = args.command {
        let task = ctx.api.raise_budget(id, &RaiseRequest { budget: dollars }).await?;
        if ctx.json {
            ctx.print_json(&task);
        } else {
            let budget = task.budget.map(|b| format!("${b:.2}")).unwrap_or_else(|| "the default".into());
            match task.status {
                // The dispatcher looks at it again: it starts once its reservation fits.
                TaskStatus::Blocked => println!("T-{} budget {budget}; it starts once its run's reservation fits every budget", task.id),
                status => println!("T-{} budget {budget}; it is {}", task.id, status.in_words()),
            }
        }
        return Ok(());
    }
    let body = ctx.api.budgets().await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    if body.budgets.is_empty() && body.task_default.is_none() {
        println!("no budgets (set them in routing.toml's [budget] table, or with `bosun add --budget`)");
    }
    for b in &body.budgets {
        let s = &b.state;
        println!(
            "{:<36} limit ${:>8.2}  spent ${:>8.2}  reserved ${:>8.2}  remaining ${:>8.2}",
            crate::output::clip(&s.budget.name, 36),
            s.budget.limit,
            s.spent,
            s.reserved,
            b.remaining
        );
    }
    if let Some(d) = body.task_default {
        println!("each task without its own budget: ${d:.2}");
    }
    Ok(())
}
