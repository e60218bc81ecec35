//! `bosun route explain TITLE [--tag ...] [--repo ...] [--assignee ...]`: which
//! routing rule takes a task like this, why each earlier one did not, and the profile
//! and model it would run with; rules left out are listed with their file and line.

use std::path::PathBuf;

use bosun_core::NewTask;

use crate::Failure;
use crate::client::Ctx;

/// Routing rules: where tasks go.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Where a task like this would go, and why.
    Explain(ExplainArgs),
}

#[derive(clap::Args)]
struct ExplainArgs {
    /// The task's title.
    title: String,
    /// Its body.
    #[arg(long, default_value = "")]
    body: String,
    /// Its repository (default: none, the user's rules only).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[arg(long)]
    assignee: Option<String>,
    /// Where it comes from: cli, board, notion, github, linear, mcp.
    #[arg(long)]
    source: Option<String>,
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    priority: i64,
    /// An explicit agent (wins over every rule).
    #[arg(long)]
    agent: Option<String>,
    /// An explicit model.
    #[arg(long)]
    model: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let Sub::Explain(a) = args.command;
    let repo = match &a.repo {
        Some(p) => Some(crate::client::repo_path(p)?.to_string_lossy().into_owned()),
        None => None,
    };
    let task = NewTask {
        title: a.title,
        body: a.body,
        repo,
        tags: a.tags,
        assignee: a.assignee,
        source: a.source,
        priority: a.priority,
        agent: a.agent,
        model: a.model,
        ..NewTask::default()
    };
    let explained = ctx.api.explain_route(&task).await?;
    if ctx.json {
        ctx.print_json(&explained);
        return Ok(());
    }
    for e in &explained.broken {
        println!("left out: {e}");
    }
    for v in &explained.tried {
        let model = v.model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        match &v.why {
            None => println!("matches: {} line {} -> {}{model}", v.file, v.line, v.agent),
            Some(why) => println!("misses:  {} line {} -> {}{model}: {why}", v.file, v.line, v.agent),
        }
    }
    let d = &explained.decision;
    match (&d.agent, &d.error) {
        (Some(agent), _) => {
            println!("=> {agent}, model {}, by {}", d.model.as_deref().unwrap_or("the CLI's default"), d.by)
        }
        (None, Some(why)) if d.by == "triage" => println!("=> triage: {why}"),
        (None, why) => return Err(Failure(why.clone().unwrap_or_else(|| "no agent for this task".into()))),
    }
    Ok(())
}
