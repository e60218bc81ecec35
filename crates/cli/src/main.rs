//! `bosun`: the command line. `bosun serve` runs the daemon; every other verb is a
//! thin client of its HTTP API (`--server` / `BOSUN_URL`).
//!
//! Exit status: 0 success, 1 the operation was refused or failed (one line on
//! stderr says why), 2 usage error.

mod client;
mod cmd;
mod output;
#[cfg(test)]
mod typed_api_tests;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bosun", version, about = "Run many AI coding agents on many tasks at once.")]
struct Cli {
    // BOSUN_URL is read in `main`, not by clap's `env`, which would print `--server` in
    // every usage error as if it were required.
    /// The daemon's address [env: BOSUN_URL] [default: http://127.0.0.1:7777].
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// The token to authenticate with [env: BOSUN_TOKEN] [default: the daemon's own,
    /// read from <data-dir>/token].
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A CA certificate (PEM) to trust for an https:// daemon with a self-signed
    /// certificate [env: BOSUN_CA].
    #[arg(long, global = true, value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    /// Print JSON instead of human-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Serve(cmd::serve::Args),
    Add(cmd::add::Args),
    After(cmd::after::Args),
    Ls(cmd::ls::Args),
    Show(cmd::show::Args),
    Logs(cmd::logs::Args),
    Diff(cmd::diff::Args),
    Stop(cmd::stop::Args),
    Interrupt(cmd::interrupt::Args),
    Say(cmd::say::Args),
    Approvals(cmd::approvals::ListArgs),
    Approve(cmd::approvals::ApproveArgs),
    Deny(cmd::approvals::DenyArgs),
    Reply(cmd::reply::Args),
    Merge(cmd::merge::Args),
    Accept(cmd::accept::Args),
    Open(cmd::open::Args),
    Pr(cmd::pr::Args),
    Retry(cmd::retry::Args),
    Edit(cmd::edit::Args),
    Rebase(cmd::rebase::Args),
    Rm(cmd::rm::Args),
    Discard(cmd::discard::Args),
    Archive(cmd::archive::Args),
    Gc(cmd::gc::Args),
    Repos(cmd::repos::Args),
    Agents(cmd::agents::Args),
    Rules(cmd::rules::Args),
    Route(cmd::route::Args),
    Cost(cmd::cost::Args),
    Budget(cmd::budget::Args),
    Notify(cmd::notify::Args),
    Source(cmd::source::Args),
    Pair(cmd::pair::Args),
    Devices(cmd::devices::Args),
    Token(cmd::token::Args),
    #[command(hide = true)]
    Hold(cmd::hold::Args),
}

/// A failure to report: one line on stderr, exit status 1.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    refuse_client_flags_for_serve(&matches);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Not for the daemon (it must survive clients that hang up) nor a holder (it
    // outlives the daemon it was started by).
    if !matches!(cli.command, Command::Serve(_) | Command::Hold(_)) {
        quiet_on_closed_pipe();
    }
    // A holder runs beside every agent: one thread is plenty, and lighter.
    let mut builder = if matches!(cli.command, Command::Hold(_)) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder.enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(async move {
        // The daemon and a holder talk to no daemon: no HTTP client for them (building
        // one reads the system's TLS roots, which would slow every agent's start).
        let command = match cli.command {
            Command::Serve(args) => return cmd::serve::run(args).await,
            Command::Hold(args) => return cmd::hold::run(args).await,
            client_verb => client_verb,
        };
        let server = cli.server.clone().or_else(|| std::env::var("BOSUN_URL").ok()).unwrap_or_else(|| "http://127.0.0.1:7777".into());
        let ca = cli.ca.clone().or_else(|| std::env::var_os("BOSUN_CA").map(Into::into));
        let ctx = client::Ctx::new(&server, ca.as_deref(), cli.json, cli.token.clone())?;
        match command {
            Command::Serve(_) | Command::Hold(_) => unreachable!("handled above"),
            Command::Add(args) => cmd::add::run(&ctx, args).await,
            Command::After(args) => cmd::after::run(&ctx, args).await,
            Command::Ls(args) => cmd::ls::run(&ctx, args).await,
            Command::Show(args) => cmd::show::run(&ctx, args).await,
            Command::Logs(args) => cmd::logs::run(&ctx, args).await,
            Command::Diff(args) => cmd::diff::run(&ctx, args).await,
            Command::Stop(args) => cmd::stop::run(&ctx, args).await,
            Command::Interrupt(args) => cmd::interrupt::run(&ctx, args).await,
            Command::Say(args) => cmd::say::run(&ctx, args).await,
            Command::Approvals(args) => cmd::approvals::list(&ctx, args).await,
            Command::Approve(args) => cmd::approvals::approve(&ctx, args).await,
            Command::Deny(args) => cmd::approvals::deny(&ctx, args).await,
            Command::Reply(args) => cmd::reply::run(&ctx, args).await,
            Command::Merge(args) => cmd::merge::run(&ctx, args).await,
            Command::Accept(args) => cmd::accept::run(&ctx, args).await,
            Command::Open(args) => cmd::open::run(&ctx, args).await,
            Command::Pr(args) => cmd::pr::run(&ctx, args).await,
            Command::Retry(args) => cmd::retry::run(&ctx, args).await,
            Command::Edit(args) => cmd::edit::run(&ctx, args).await,
            Command::Rebase(args) => cmd::rebase::run(&ctx, args).await,
            Command::Rm(args) => cmd::rm::run(&ctx, args).await,
            Command::Discard(args) => cmd::discard::run(&ctx, args).await,
            Command::Archive(args) => cmd::archive::run(&ctx, args).await,
            Command::Gc(args) => cmd::gc::run(&ctx, args).await,
            Command::Repos(args) => cmd::repos::run(&ctx, args).await,
            Command::Agents(args) => cmd::agents::run(&ctx, args).await,
            Command::Rules(args) => cmd::rules::run(&ctx, args).await,
            Command::Route(args) => cmd::route::run(&ctx, args).await,
            Command::Cost(args) => cmd::cost::run(&ctx, args).await,
            Command::Budget(args) => cmd::budget::run(&ctx, args).await,
            Command::Notify(args) => cmd::notify::run(&ctx, args).await,
            Command::Source(args) => cmd::source::run(&ctx, args).await,
            Command::Pair(args) => cmd::pair::run(&ctx, args).await,
            Command::Devices(args) => cmd::devices::run(&ctx, args).await,
            Command::Token(args) => cmd::token::run(&ctx, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("bosun: {message}");
            ExitCode::from(1)
        }
    }
}

/// `--server`, `--token`, `--ca` and `--json` are for the client verbs: given to `serve` (on the command
/// line; `BOSUN_URL` in the environment is fine), they are a usage error.
fn refuse_client_flags_for_serve(matches: &clap::ArgMatches) {
    let Some(serve) = matches.subcommand_matches("serve") else { return };
    for flag in ["server", "json", "ca", "token"] {
        if serve.value_source(flag) == Some(clap::parser::ValueSource::CommandLine) {
            let message = format!("--{flag} is for the client verbs, not for serve (serve listens on --addr)");
            Cli::command().error(clap::error::ErrorKind::ArgumentConflict, message).exit();
        }
    }
}

/// Like any Unix tool, a client verb ends quietly when the reader of its output goes
/// away (`bosun logs 12 | head`) instead of panicking on the failed write.
fn quiet_on_closed_pipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: at the start of main, before any thread exists; the default action
    // (ending the process) is what a shell pipeline expects.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
