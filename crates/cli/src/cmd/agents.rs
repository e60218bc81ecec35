//! `bosun agents`: the agent profiles found, their runtime, and whether that
//! runtime's CLI is installed (and which version); built-in profiles (an installed
//! CLI nobody wrote a profile for) are marked so; an `api` agent on an
//! `openai-compatible` server says what that server answered.

use std::path::{Path, PathBuf};

use crate::Failure;
use crate::client::{Ctx, repo_root};

/// List agent profiles and their runtimes.
#[derive(clap::Args)]
pub struct Args {
    /// Also list this repo's profiles (`.bosun/agents`). Default: the repo the
    /// current directory is in, if any.
    #[arg(long)]
    repo: Option<PathBuf>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    let repo = match &args.repo {
        Some(repo) => Some(repo_root(repo)?.ok_or_else(|| Failure(format!("{} is not in a git repository", repo.display())))?),
        None => repo_root(Path::new("."))?,
    };
    let body = ctx.api.agents(repo.as_deref()).await?;
    if ctx.json {
        ctx.print_json(&body);
        return Ok(());
    }
    if body.agents.is_empty() {
        println!("no agent profiles (add Markdown files to ~/.config/bosun/agents/ or <repo>/.bosun/agents/)");
    }
    for a in &body.agents {
        let i = &a.installed;
        let state = if i.ok {
            format!("{} {}", i.path.as_deref().unwrap_or(""), i.version.as_deref().unwrap_or(""))
        } else {
            format!("MISSING: {}", i.problem.as_deref().unwrap_or(""))
        };
        let p = &a.profile;
        let models = a.models.join(",");
        let model = if models.is_empty() { if p.builtin { "(CLI default)" } else { "-" } } else { models.as_str() };
        let kind = if p.builtin { " (built-in)" } else { "" };
        println!("{:<16} {:<12} {:<18} {}{kind}", p.name, p.runtime.name(), model, state.trim());
        if let Some(e) = &a.endpoint {
            match &e.problem {
                None if e.models.is_empty() => println!("{:<16} {} answers, serving no models", "", e.url),
                None => println!("{:<16} {} serves: {}", "", e.url, e.models.join(", ")),
                Some(problem) => println!("{:<16} UNREACHABLE: {problem}", ""),
            }
        }
    }
    for b in &body.broken {
        println!("BROKEN {}: {}", b.path, b.error);
    }
    Ok(())
}
