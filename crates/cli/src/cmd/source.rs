//! `bosun source add|ls|sync|rm`: tasks from where people keep them. `add notion
//! --database ID|URL --token-env NAME [--repo PATH] [--status-property Status --ready
//! Ready --agent-property … --tags-property … --repo-property …]`, `add github --repo
//! owner/name|PATH --label NAME [--assignee LOGIN] [--token-env NAME]`, `add linear --team
//! KEY --label NAME --token-env NAME [--repo PATH]`; each takes `--interval SECONDS` and
//! `--api URL`. `ls` shows each source's last sync and error; `sync` syncs one now;
//! `rm` stops watching (its tasks stay). Tokens are given by the *name* of a variable
//! in the daemon's environment, never on the command line. `--webhook` (Notion) or
//! `--webhook-secret-env NAME` (any) takes webhooks at the URL `ls` shows, so an
//! item is read the moment it changes; `verification-token ID` prints the token
//! Notion sent, to paste into Notion.

use std::path::{Path, PathBuf};

use bosun_api::source::{NewSourceRequest, Source};
use bosun_core::source::SourceKind;
use chrono::Local;

use crate::Failure;
use crate::client::{Ctx, repo_root};
use crate::output::clip;

/// Task sources: a Notion database, a GitHub repo's issues, a Linear team's issues.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Watch a source: its ready items become tasks, and their state follows the task.
    Add(Box<AddArgs>),
    /// List the sources with their last sync.
    Ls,
    /// Sync a source now.
    Sync {
        /// The source's id, as `bosun source ls` shows it.
        id: i64,
    },
    /// Print the verification token Notion sent to a source's webhook, to paste
    /// into the subscription's settings in Notion.
    VerificationToken {
        /// The source's id, as `bosun source ls` shows it.
        id: i64,
    },
    /// Stop watching a source (its tasks stay).
    Rm {
        /// The source's id, as `bosun source ls` shows it.
        id: i64,
    },
}

#[derive(clap::Args)]
struct AddArgs {
    /// notion, github or linear.
    #[arg(value_parser = ["notion", "github", "linear"])]
    kind: String,
    /// Notion: the database's id or URL.
    #[arg(long)]
    database: Option<String>,
    /// The repo tasks run in (a path); github: owner/name, or the path of a checkout
    /// whose GitHub remote names it.
    #[arg(long)]
    repo: Option<String>,
    /// GitHub and Linear: the label that makes an issue a task.
    #[arg(long)]
    label: Option<String>,
    /// GitHub: only issues assigned to this login.
    #[arg(long)]
    assignee: Option<String>,
    /// Linear: the team's key (ENG).
    #[arg(long)]
    team: Option<String>,
    /// The variable in the daemon's environment holding the token (GitHub: default
    /// GITHUB_TOKEN, else `gh auth token`).
    #[arg(long, value_name = "NAME")]
    token_env: Option<String>,
    /// Notion: the status (or select) property that says a page is ready (default Status).
    #[arg(long, value_name = "NAME")]
    status_property: Option<String>,
    /// Notion: the value of that property that makes a page a task (default Ready).
    #[arg(long, value_name = "VALUE")]
    ready: Option<String>,
    /// Notion: a select property naming the agent profile.
    #[arg(long, value_name = "NAME")]
    agent_property: Option<String>,
    /// Notion: a multi-select property: the task's tags.
    #[arg(long, value_name = "NAME")]
    tags_property: Option<String>,
    /// Notion: a text, select or URL property holding the repo's path.
    #[arg(long, value_name = "NAME")]
    repo_property: Option<String>,
    /// Notion: a people property whose first person is the task's assignee (routing
    /// rules map people to profiles: `when = { assignee = "Ada Lovelace" }`).
    #[arg(long, value_name = "NAME")]
    assignee_property: Option<String>,
    /// Linear: also take the issues delegated to the key's (app) user; with it,
    /// --label may be left out.
    #[arg(long)]
    delegated: bool,
    /// Notion: take webhooks, signed with the verification token Notion sends when
    /// the subscription is made (`bosun source verification-token ID` prints it).
    #[arg(long)]
    webhook: bool,
    /// Take webhooks signed with the secret in this variable of the daemon's
    /// environment (GitHub's webhook secret, Linear's signing secret).
    #[arg(long, value_name = "NAME")]
    webhook_secret_env: Option<String>,
    /// Seconds between polls (default 30).
    #[arg(long, value_name = "SECONDS")]
    interval: Option<u64>,
    /// The API base instead of the public one (a proxy, GitHub Enterprise, a test server).
    #[arg(long, value_name = "URL")]
    api: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    match args.command {
        Sub::Add(add) => add_source(ctx, *add).await,
        Sub::Ls => list(ctx).await,
        Sub::Sync { id } => {
            let r = ctx.api.sync_source(id).await.map_err(|e| not_found(e, id))?;
            if ctx.json {
                ctx.print_json(&r);
            } else {
                let made = match r.created.as_slice() {
                    [] => "no new task".to_string(),
                    ids => format!("new: {}", ids.iter().map(|i| format!("T-{i}")).collect::<Vec<_>>().join(", ")),
                };
                println!("source {id}: {} read, {made}", bosun_core::count(r.seen as usize, "changed item"));
                if let Some(e) = &r.source.last_error {
                    println!("  but: {e}");
                }
            }
            Ok(())
        }
        Sub::VerificationToken { id } => {
            let t = ctx.api.verification_token(id).await.map_err(|e| not_found(e, id))?;
            if ctx.json {
                ctx.print_json(&t);
            } else {
                println!("{}", t.token);
            }
            Ok(())
        }
        Sub::Rm { id } => {
            let s = ctx.api.remove_source(id).await.map_err(|e| not_found(e, id))?;
            if ctx.json {
                ctx.print_json(&s);
            } else {
                println!("stopped watching source {id} ({}); its tasks stay", s.config.watching());
            }
            Ok(())
        }
    }
}

fn not_found(e: bosun_api::client::ClientError, id: i64) -> Failure {
    match e.code() {
        Some("not_found") => Failure(format!("no source {id} (`bosun source ls` lists them)")),
        _ => Failure::from(e),
    }
}

/// Whether `s` names a GitHub repository (`owner/name`) rather than a path here.
fn is_owner_name(s: &str) -> bool {
    bosun_core::repo_config::parse_owner_repo(s).is_some() && !Path::new(s).exists()
}

async fn add_source(ctx: &Ctx, a: AddArgs) -> Result<(), Failure> {
    let kind = match a.kind.as_str() {
        "notion" => SourceKind::Notion,
        "github" => SourceKind::Github,
        _ => SourceKind::Linear,
    };
    let local = |p: &str| -> Result<String, Failure> {
        repo_root(&PathBuf::from(p))?.ok_or_else(|| Failure(format!("{p} is not in a git repository")))
    };
    let (repo, github_repo) = match (&a.repo, kind) {
        (Some(r), SourceKind::Github) if is_owner_name(r) => (repo_root(Path::new("."))?, Some(r.clone())),
        (Some(r), _) => (Some(local(r)?), None),
        (None, _) => (None, None),
    };
    let req = NewSourceRequest {
        kind: Some(kind),
        database: a.database,
        github_repo,
        team: a.team,
        label: a.label,
        assignee: a.assignee,
        token_env: a.token_env,
        repo,
        status_property: a.status_property,
        ready: a.ready,
        agent_property: a.agent_property,
        tags_property: a.tags_property,
        repo_property: a.repo_property,
        assignee_property: a.assignee_property,
        delegated: a.delegated.then_some(true),
        webhook: a.webhook.then_some(true),
        webhook_secret_env: a.webhook_secret_env,
        interval: a.interval,
        api: a.api,
    };
    let s = ctx.api.add_source(&req).await?;
    if ctx.json {
        ctx.print_json(&s);
    } else {
        let runs = s.repo.as_deref().map(|r| format!("; tasks run in {r}")).unwrap_or_default();
        println!("added source {}: {}{runs} (synced every {}s)", s.id, s.config.watching(), s.interval_secs);
        if let Some(hook) = &s.webhook {
            println!("  webhook: {}", hook.url);
            if hook.secret_env.is_none() {
                println!(
                    "  create the subscription in Notion with that URL; Notion then sends a verification token: `bosun source verification-token {}` prints it to paste back",
                    s.id
                );
            }
        }
    }
    Ok(())
}

async fn list(ctx: &Ctx) -> Result<(), Failure> {
    let sources = ctx.api.sources().await?;
    if ctx.json {
        ctx.print_json(&sources);
        return Ok(());
    }
    if sources.is_empty() {
        println!("no sources (`bosun source add notion --database URL --token-env NOTION_TOKEN` adds one)");
        return Ok(());
    }
    println!("{:<4} {:<7} {:<48} {:>5} {:>5}  LAST SYNC", "ID", "KIND", "WATCHING", "SEEN", "TASKS");
    for s in &sources {
        println!("{:<4} {:<7} {:<48} {:>5} {:>5}  {}", s.id, s.kind().as_str(), clip(&s.config.watching(), 48), s.seen, s.created, last(s));
        if let Some(hook) = &s.webhook {
            println!("     webhook {}: {}", hook.url, hook_state(s.id, hook));
        }
    }
    Ok(())
}

fn hook_state(id: i64, hook: &bosun_core::source::Webhook) -> String {
    match (&hook.last_delivery_at, hook.secret_env.is_some() || hook.token_received) {
        (Some(at), _) => format!("last delivery {}", at.with_timezone(&Local).format("%H:%M:%S")),
        (None, true) => "no delivery yet".into(),
        (None, false) => format!("waiting for Notion's verification token (then `bosun source verification-token {id}`)"),
    }
}

fn last(s: &Source) -> String {
    let when = s.last_sync_at.map(|t| t.with_timezone(&Local).format("%H:%M:%S").to_string());
    match (when, &s.last_error) {
        (None, _) => "not yet".into(),
        (Some(at), None) => format!("{at} ok"),
        (Some(at), Some(e)) => format!("{at} failed: {}", clip(e, 200)),
    }
}
