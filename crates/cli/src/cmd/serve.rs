//! `bosun serve`: run the daemon in the foreground until Ctrl-C or SIGTERM. Agents
//! run under holders (`bosun hold`) and keep running when the daemon stops; the next
//! `bosun serve` takes them back. With `--stop-agents-on-exit`, a shutdown stops every
//! live run instead (their tasks become `interrupted`, retryable).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bosun_engine::Config;
use bosun_engine::config::{default_config_dir, default_data_dir};

use crate::Failure;

/// Run the daemon: HTTP API and dispatcher.
#[derive(clap::Args)]
pub struct Args {
    /// Where tasks, worktrees and logs live. Default: ~/.local/share/bosun.
    #[arg(long, env = "BOSUN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Where user-level agent profiles live (`agents/*.md`). Default: ~/.config/bosun.
    #[arg(long, env = "BOSUN_CONFIG_DIR")]
    config_dir: Option<PathBuf>,
    /// Address to listen on. Beyond loopback (`0.0.0.0:7777`, a LAN or tailnet
    /// address) it needs `--tls-cert`/`--tls-key` or `--behind-proxy`.
    #[arg(long, env = "BOSUN_ADDR", default_value = "127.0.0.1:7777")]
    addr: SocketAddr,
    /// Serve HTTPS with this certificate (PEM; the chain, leaf first).
    #[arg(long, env = "BOSUN_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "BOSUN_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A reverse proxy in front (Tailscale Serve, Caddy, nginx) serves HTTPS to
    /// clients: listen beyond loopback without TLS of our own. Set BOSUN_PUBLIC_URL
    /// to the proxy's https:// URL. Every request is still authenticated by bosun.
    #[arg(long, conflicts_with = "tls_cert")]
    behind_proxy: bool,
    /// A host name the daemon also answers to (repeatable; comma-separated in the
    /// environment). Requests naming any other host are refused (DNS rebinding).
    #[arg(long = "allow-host", env = "BOSUN_ALLOWED_HOSTS", value_delimiter = ',')]
    allow_hosts: Vec<String>,
    /// Agents running at once, over all profiles.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_concurrent: u32,
    /// Seconds between SIGTERM and SIGKILL when stopping an agent.
    #[arg(long, default_value_t = 5.0)]
    stop_grace: f64,
    /// Seconds an HTTP client may take to send a request's headers before it is cut
    /// off (a client trickling them in holds a connection).
    #[arg(long, default_value_t = 10.0)]
    header_timeout: f64,
    /// Stop every agent when the daemon stops (their tasks become interrupted).
    /// Default: agents keep running and the next `bosun serve` takes them back.
    #[arg(long)]
    stop_agents_on_exit: bool,
    /// Warm worktrees kept ready per repo (checked out at the base's head, the setup
    /// run where `.bosun/config.toml` says `[setup] poolable = true`), for repos whose
    /// `.bosun/config.toml` says no `[pool] size`. 0: none.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=64))]
    pool: u32,
    /// Seconds an Approve/Deny link in a notification stays valid.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 3600))]
    action_link_ttl: u64,
    /// For tests only: accept push subscriptions to http:// and to loopback or private
    /// addresses (a local fake push service).
    #[arg(long, hide = true)]
    allow_local_push: bool,
    /// The client verbs' global `--server`, `--json`, `--ca` and `--token` mean nothing here: declared
    /// hidden so that `serve --help` does not offer them (clap does not propagate a
    /// global argument a subcommand already has); `main` refuses them if given.
    #[arg(id = "server", long = "server", hide = true)]
    _server: Option<String>,
    #[arg(id = "json", long = "json", hide = true)]
    _json: bool,
    #[arg(id = "ca", long = "ca", hide = true)]
    _ca: Option<PathBuf>,
    #[arg(id = "token", long = "token", hide = true)]
    _token: Option<String>,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOSUN_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, not in a log file or a journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log file on a full disk must not stop the daemon: by default a failed
        // write is reported with `eprintln!`, which panics on that same stderr.
        .log_internal_errors(false)
        .init();
    let exposure = bosun_server::Exposure {
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| bosun_server::TlsFiles { cert, key }),
        behind_proxy: args.behind_proxy,
    };
    if !(0.0..=3600.0).contains(&args.stop_grace) {
        return Err(Failure("--stop-grace must be between 0 and 3600 seconds".into()));
    }
    let data_dir = absolute(args.data_dir.unwrap_or_else(default_data_dir))?;
    let config_dir = absolute(args.config_dir.unwrap_or_else(default_config_dir))?;
    let mut config = Config::new(data_dir, config_dir);
    config.max_concurrent = args.max_concurrent as usize;
    config.stop_grace = Duration::from_secs_f64(args.stop_grace);
    config.allowed_hosts = args.allow_hosts;
    config.stop_agents_on_exit = args.stop_agents_on_exit;
    config.action_link_ttl = Duration::from_secs(args.action_link_ttl);
    config.allow_local_push = args.allow_local_push;
    config.pool_size = args.pool as usize;
    if !(0.1..=3600.0).contains(&args.header_timeout) {
        return Err(Failure("--header-timeout must be between 0.1 and 3600 seconds".into()));
    }
    config.header_timeout = Duration::from_secs_f64(args.header_timeout);
    // This very binary, even once an upgrade has replaced (or deleted) its file.
    let own = std::path::PathBuf::from("/proc/self/exe");
    config.holder_exe = Some(if own.exists() {
        own
    } else {
        std::env::current_exe().map_err(|e| Failure(format!("cannot find bosun's own binary: {e}")))?
    });
    let listener = tokio::net::TcpListener::bind(args.addr).await.map_err(|e| Failure(format!("cannot listen on {}: {e}", args.addr)))?;
    let data_dir = config.data_dir.clone();
    // Said once the data dir is ours and recovered: a second daemon fails before it.
    let ready = move |url: &str| eprintln!("bosun serving {url} (data in {})", data_dir.display());
    bosun_server::serve(config, exposure, listener, shutdown_signal(), ready).await.map_err(|e| Failure(e.to_string()))
}

fn absolute(p: PathBuf) -> Result<PathBuf, Failure> {
    if p.is_absolute() { Ok(p) } else { Ok(std::env::current_dir()?.join(p)) }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
