//! `bosun rules [--agent X] [--repo PATH]` and `bosun rules rm ID`: the allow rules
//! that let agents' asks pass without a human (saved by `approve --always`, each with
//! the answer it came from, and the `allow:` lists of profile files), and revoking a
//! saved one.

use std::path::PathBuf;

use bosun_api::{AllowRule, RuleOrigin, RulesQuery};
use chrono::Local;

use crate::Failure;
use crate::client::{Ctx, repo_root};
use crate::output::clip;

/// List the allow rules and where each came from, or revoke one (`rules rm ID`).
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Only this agent profile's rules.
    #[arg(long)]
    agent: Option<String>,
    /// Only the rules that hold in this repo (any directory inside it): those saved
    /// for it, its profiles' and the user's profiles'.
    #[arg(long)]
    repo: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Revoke a saved rule: what it allowed is asked about again. (A profile file's
    /// rules are removed by editing the file.)
    Rm(RmArgs),
}

#[derive(clap::Args)]
struct RmArgs {
    /// The rule's id, as `bosun rules` shows it.
    id: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    if let Some(Sub::Rm(rm)) = args.command {
        return remove(ctx, &rm.id).await;
    }
    let repo = match &args.repo {
        Some(dir) => Some(repo_root(dir)?.ok_or_else(|| Failure(format!("{} is not in a git repository", dir.display())))?),
        None => None,
    };
    let rules = ctx.api.rules(&RulesQuery { agent: args.agent, repo }).await?;
    if ctx.json {
        ctx.print_json(&rules);
        return Ok(());
    }
    if rules.is_empty() {
        println!("no allow rules");
        return Ok(());
    }
    println!("{:<5} {:<14} {:<30} {:<32} FROM", "ID", "AGENT", "REPO", "RULE");
    for r in &rules {
        let id = r.id.map_or("-".into(), |id| id.to_string());
        let repo = match (&r.repo, &r.origin) {
            (Some(repo), _) => repo.as_str(),
            (None, RuleOrigin::Profile { .. }) => "(every repo)",
            (None, RuleOrigin::Approval { .. }) => "(no repo)",
        };
        println!("{id:<5} {:<14} {:<30} {:<32} {}", clip(&r.profile, 14), clip(repo, 30), clip(&r.pattern, 32), origin(r));
    }
    Ok(())
}

/// Where a rule came from, for people.
fn origin(r: &AllowRule) -> String {
    match &r.origin {
        RuleOrigin::Profile { file } => format!("profile file {file}"),
        RuleOrigin::Approval { approval: Some(a), saved_at } => {
            let asked = a.command.as_deref().or(a.path.as_deref()).unwrap_or(&a.tool);
            let when = saved_at.or(a.answered_at).map(|t| format!(", {}", t.with_timezone(&Local).format("%Y-%m-%d %H:%M")));
            format!(
                "T-{} asked `{}`, approved by {}{}",
                a.task_id,
                clip(asked, 60),
                a.answered_by.as_deref().unwrap_or("?"),
                when.unwrap_or_default()
            )
        }
        RuleOrigin::Approval { approval: None, .. } => "approve --always (before bosun recorded which answer)".into(),
    }
}

/// Revokes a saved rule by its id. A profile file's rule (asked for by its pattern)
/// cannot be: the error says which file to edit.
async fn remove(ctx: &Ctx, arg: &str) -> Result<(), Failure> {
    let Ok(id) = arg.trim().trim_start_matches('#').parse::<i64>() else {
        let rules = ctx.api.rules(&RulesQuery::default()).await?;
        let same = || rules.iter().filter(|r| r.pattern == arg);
        let saved = same().find_map(|r| r.id);
        let file = same().find_map(|r| match &r.origin {
            RuleOrigin::Profile { file } => Some(file),
            RuleOrigin::Approval { .. } => None,
        });
        return Err(Failure(match (saved, file) {
            (Some(id), _) => format!("`{arg}` is saved rule {id}: `bosun rules rm {id}` revokes it"),
            (None, Some(file)) => format!(
                "`{arg}` is in the profile file {file}: a profile's rules cannot be removed with `rules rm`; edit its `allow:` list"
            ),
            (None, None) => format!("no allow rule `{arg}` (`bosun rules` lists them with their ids)"),
        }));
    };
    let rule = ctx.api.revoke_rule(id).await.map_err(|e| match e.code() {
        Some("not_found") => Failure(format!("no saved allow rule {id} (`bosun rules` lists them with their ids)")),
        _ => Failure::from(e),
    })?;
    if ctx.json {
        ctx.print_json(&rule);
    } else {
        println!("revoked rule {id}: {} for {} (it will be asked about again)", rule.pattern, rule.profile);
    }
    Ok(())
}
