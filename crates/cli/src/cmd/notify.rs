//! `bosun notify add|ls|rm|test`: where notifications go. `add ntfy --url URL
//! [--token-env NAME | --public-topic-ok]`, `add webhook --url URL --secret-env NAME`, `add webpush` (then
//! enable push in the board on each device), each with filters (`--events`, `--repo`,
//! `--agent`) and `--quiet HH:MM-HH:MM`; `ls` shows each channel's last delivery
//! result; `test` sends one message to every channel and says how each went. Secrets
//! are given by the *name* of a variable in the daemon's environment, never on the
//! command line.

use std::path::PathBuf;

use bosun_api::notify::{Channel, NewChannelRequest};
use bosun_core::notify::ChannelKind;
use chrono::Local;

use crate::Failure;
use crate::client::{Ctx, repo_root};
use crate::output::clip;

/// Notification channels: ntfy, webhook, Web Push.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Add a channel.
    Add(Box<AddArgs>),
    /// List the channels with their last delivery result.
    Ls,
    /// Remove a channel.
    Rm {
        /// The channel's id, as `bosun notify ls` shows it.
        id: i64,
    },
    /// Send one test message to every channel.
    Test,
}

#[derive(clap::Args)]
struct AddArgs {
    /// ntfy, webhook or webpush.
    #[arg(value_parser = ["ntfy", "webhook", "webpush"])]
    kind: String,
    /// ntfy: the topic URL (https://ntfy.sh/my-topic); webhook: where to POST.
    #[arg(long)]
    url: Option<String>,
    /// ntfy: the variable in the daemon's environment holding the access token.
    #[arg(long, value_name = "NAME")]
    token_env: Option<String>,
    /// ntfy without --token-env: accept that anyone who can read the topic can press
    /// its Approve/Deny buttons.
    #[arg(long)]
    public_topic_ok: bool,
    /// webhook: the variable in the daemon's environment holding the HMAC secret.
    #[arg(long, value_name = "NAME")]
    secret_env: Option<String>,
    /// A name to show (default: the kind and the URL's host).
    #[arg(long)]
    name: Option<String>,
    /// Only these events: needs_input,review,failed,merged (default: all).
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// Only tasks of this repo (repeatable).
    #[arg(long)]
    repo: Vec<PathBuf>,
    /// Only tasks of this agent profile (repeatable).
    #[arg(long)]
    agent: Vec<String>,
    /// Hold notifications during these hours (daemon's local time), e.g. 22:00-07:00.
    #[arg(long, value_name = "HH:MM-HH:MM")]
    quiet: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), Failure> {
    match args.command {
        Sub::Add(add) => add_channel(ctx, *add).await,
        Sub::Ls => list(ctx).await,
        Sub::Rm { id } => {
            let c = ctx.api.remove_channel(id).await.map_err(|e| match e.code() {
                Some("not_found") => Failure(format!("no channel {id} (`bosun notify ls` lists them)")),
                _ => Failure::from(e),
            })?;
            if ctx.json {
                ctx.print_json(&c);
            } else {
                println!("removed channel {id} ({})", c.name);
            }
            Ok(())
        }
        Sub::Test => test(ctx).await,
    }
}

async fn add_channel(ctx: &Ctx, a: AddArgs) -> Result<(), Failure> {
    let kind = ChannelKind::parse(&a.kind).ok_or_else(|| Failure(format!("unknown channel kind {:?}", a.kind)))?;
    let mut repos = Vec::new();
    for dir in &a.repo {
        repos.push(repo_root(dir)?.ok_or_else(|| Failure(format!("{} is not in a git repository", dir.display())))?);
    }
    let req = NewChannelRequest {
        kind,
        url: a.url,
        token_env: a.token_env,
        public_topic_ok: a.public_topic_ok,
        secret_env: a.secret_env,
        name: a.name,
        events: a.events,
        repos,
        agents: a.agent,
        quiet: a.quiet,
    };
    let public = kind == ChannelKind::Ntfy && req.token_env.is_none() && req.public_topic_ok;
    let c = ctx.api.add_channel(&req).await?;
    if public {
        eprintln!("warning: this ntfy topic has no token: anyone who can read it can approve or deny what your agents ask");
    }
    if ctx.json {
        ctx.print_json(&c);
    } else {
        println!(
            "added channel {} ({}){}",
            c.id,
            c.name,
            if kind == ChannelKind::Webpush { ": enable push on each device in the board's Notifications page" } else { "" }
        );
    }
    Ok(())
}

async fn list(ctx: &Ctx) -> Result<(), Failure> {
    let channels = ctx.api.channels().await?;
    if ctx.json {
        ctx.print_json(&channels);
        return Ok(());
    }
    if channels.is_empty() {
        println!("no notification channels (`bosun notify add ntfy --url https://ntfy.sh/TOPIC` adds one)");
        return Ok(());
    }
    println!("{:<4} {:<8} {:<28} {:<28} LAST", "ID", "KIND", "NAME", "FILTER");
    for c in &channels {
        println!("{:<4} {:<8} {:<28} {:<28} {}", c.id, c.kind.as_str(), clip(&c.name, 28), clip(&filter(c), 28), last(c));
    }
    Ok(())
}

fn filter(c: &Channel) -> String {
    let mut parts = Vec::new();
    if !c.filter.events.is_empty() {
        parts.push(c.filter.events.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(","));
    }
    parts.extend(c.filter.repos.iter().map(|r| format!("repo {r}")));
    parts.extend(c.filter.agents.iter().map(|a| format!("agent {a}")));
    if let Some(q) = c.quiet {
        parts.push(format!("quiet {q}"));
    }
    if parts.is_empty() { "everything".into() } else { parts.join("; ") }
}

fn last(c: &Channel) -> String {
    match (&c.last_result, c.last_at) {
        (Some(r), Some(at)) => format!("{} ({})", clip(r, 80), at.with_timezone(&Local).format("%Y-%m-%d %H:%M")),
        _ => "nothing sent yet".into(),
    }
}

async fn test(ctx: &Ctx) -> Result<(), Failure> {
    let results = ctx.api.test_channels().await?;
    if ctx.json {
        ctx.print_json(&results);
        return Ok(());
    }
    if results.is_empty() {
        return Err(Failure("no notification channels to test (`bosun notify add ...` first)".into()));
    }
    for r in &results {
        match &r.error {
            None => println!("{} {} ({}): ok", r.channel, r.name, r.kind.as_str()),
            Some(e) => println!("{} {} ({}): failed: {e}", r.channel, r.name, r.kind.as_str()),
        }
    }
    match results.iter().filter(|r| !r.ok).count() {
        0 => Ok(()),
        n => Err(Failure(format!("{n} of {} channels could not be reached", results.len()))),
    }
}
