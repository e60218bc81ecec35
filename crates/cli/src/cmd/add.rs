//! `bosun add`: queue a task. Prints the new id alone on the first line (or the
//! task as JSON with `--json`).

use std::io::Read;
use std::path::PathBuf;

use bosun_core::NewTask;

use crate::Failure;
use crate::client::Ctx;

/// Queue a task for an agent.
#[derive(clap::Args)]
pub struct Args {
    /// What to do, in one line.
    title: String,
    /// Details for the agent. See also --body-file.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the body from a file (`-` for stdin).
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// The git repository to work in (any directory inside it). Without it the task
    /// gets a scratch workspace (non-code work).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// Branch to start from and merge into. Default: the repo's current branch.
    #[arg(long, requires = "repo")]
    base: Option<String>,
    /// Agent profile to use. Default: the first routing rule that matches (see
    /// `bosun route explain`), else routed by tags.
    #[arg(long)]
    agent: Option<String>,
    /// Model to run it with. Default: the matching rule's, else the profile's.
    #[arg(long)]
    model: Option<String>,
    /// Who the task is assigned to (a name routing rules can match).
    #[arg(long)]
    assignee: Option<String>,
    /// Dollars the task may spend in all its runs. Default: the matching rule's,
    /// else `[budget.task] default`.
    #[arg(long)]
    budget: Option<f64>,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Start only after this task is done (merged); repeatable.
    #[arg(long, value_parser = crate::client::parse_task_id)]
    after: Vec<i64>,
    /// Higher starts first.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    priority: i64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| Failure(format!("cannot read the body from stdin: {e}")))?;
            s
        }
        (None, Some(p)) => std::fs::read_to_string(p).map_err(|e| Failure(format!("cannot read {}: {e}", p.display())))?,
        (None, None) => String::new(),
    };
    let repo = match &args.repo {
        Some(p) => Some(crate::client::repo_path(p)?.to_string_lossy().into_owned()),
        None => None,
    };
    let new = NewTask {
        title: args.title,
        body,
        repo,
        base: args.base,
        agent: args.agent,
        tags: args.tags,
        priority: args.priority,
        after: args.after,
        model: args.model,
        assignee: args.assignee,
        source: None,
        budget: args.budget,
    };
    let task = match ctx.api.create_task(&new).await {
        Ok(task) => task,
        Err(e) => return Err(Failure(format!("{e}{}", if new.repo.is_none() { profiles_here(&e.to_string()) } else { "" }))),
    };
    if ctx.json {
        ctx.print_json(&task);
    } else {
        println!("{}", task.id);
    }
    Ok(())
}

/// A task without `--repo` sees only the user's profiles: when no agent was found for
/// it and the current directory's repo has its own, say how to use them.
fn profiles_here(error: &str) -> &'static str {
    let here = crate::client::repo_root(std::path::Path::new(".")).ok().flatten();
    match here {
        Some(root) if error.contains("agent") && std::path::Path::new(&root).join(".bosun/agents").is_dir() => {
            " (this directory's repo has profiles: pass --repo .)"
        }
        _ => "",
    }
}
