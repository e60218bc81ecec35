//! bosun's HTTP server: the only crate that knows axum. It serves the engine's
//! operations as a JSON REST API with SSE streams and an OpenAPI document, plus the
//! embedded web board, behind a guard that refuses foreign hosts and origins.
//! A handler parses the request, calls one engine operation, and sends its answer.

mod act;
pub mod api;
mod hook;
mod listen;
mod page;
mod tls;

use std::future::Future;
use std::net::SocketAddr;

use bosun_engine::{Config, Engine, StartError};
use tokio::net::TcpListener;

pub use tls::{TlsError, TlsFiles};

/// How the daemon is reached: directly on loopback, over its own TLS, or through a
/// reverse proxy that terminates TLS (Tailscale Serve, Caddy, nginx).
#[derive(Clone, Debug, Default)]
pub struct Exposure {
    /// Serve HTTPS with this certificate.
    pub tls: Option<TlsFiles>,
    /// A proxy in front gives clients HTTPS; a non-loopback address is then allowed
    /// without TLS of our own.
    pub behind_proxy: bool,
}

impl Exposure {
    /// Why `addr` may not be served this way, if it may not: beyond loopback, every
    /// request (tokens, session cookies) would cross the network in the clear.
    pub fn refuse(&self, addr: SocketAddr) -> Option<ServeError> {
        (!addr.ip().is_loopback() && self.tls.is_none() && !self.behind_proxy).then_some(ServeError::Cleartext(addr))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon's own token could not be made or written.
    #[error("cannot set up the daemon's token: {0}")]
    Token(String),
    #[error(
        "refusing to listen on {0} without TLS: beyond loopback (127.0.0.1, ::1) give `--tls-cert FILE --tls-key FILE`, or `--behind-proxy` when a reverse proxy in front serves HTTPS"
    )]
    Cleartext(SocketAddr),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Starts the engine on `config`'s data dir (taking its lock, recovering), calls
/// `ready` with the URL it serves, and serves it on `listener` until `shutdown`
/// completes; then stops every live run. Beyond loopback only over TLS or behind a
/// proxy ([`Exposure::refuse`]).
pub async fn serve(
    config: Config,
    exposure: Exposure,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(&str),
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    // Refused before the engine starts: the data dir is not even opened.
    if let Some(refusal) = exposure.refuse(addr) {
        return Err(refusal);
    }
    let tls = exposure.tls.as_ref().map(TlsFiles::acceptor).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let own_url = format!("{scheme}://{addr}");
    let mut config = config;
    // The address links name (pairing, notifications, PR bodies): BOSUN_PUBLIC_URL, else
    // for a daemon on every interface its first `--allow-host` name, else the address.
    config.public_url = match std::env::var("BOSUN_PUBLIC_URL") {
        Ok(url) => url,
        Err(_) => match config.allowed_hosts.first().filter(|_| addr.ip().is_unspecified()) {
            Some(name) => format!("{scheme}://{name}:{}", addr.port()),
            None => {
                if addr.ip().is_unspecified() {
                    tracing::warn!(
                        "links to the board (pairing, notifications) name {own_url}, which no other device can open: set BOSUN_PUBLIC_URL, or --allow-host NAME"
                    );
                }
                own_url.clone()
            }
        },
    };
    let mut names = config.allowed_hosts.clone();
    names.extend(config.public_url.parse::<axum::http::Uri>().ok().and_then(|u| u.host().map(str::to_string)));
    let guard = api::Guard::new(addr, &names);

    let running = Engine::start(config).await?;
    let engine = running.engine.clone();
    if let Err(e) = engine.ensure_local_token().await {
        running.shutdown().await;
        return Err(ServeError::Token(e.to_string()));
    }
    ready(&own_url);
    tracing::info!(%addr, data_dir = %engine.config.data_dir.display(), "bosun daemon listening");
    let closing = engine.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    let header_timeout = engine.config.header_timeout;
    let router = api::router(engine, guard, tls.is_some());
    let served = listen::serve(listener, router, tls, header_timeout, listen::max_connections(), shutdown).await;
    running.shutdown().await;
    Ok(served?)
}
