//! bosun's HTTP server: the only crate that knows axum. It serves the engine's
//! operations as a JSON REST API with SSE streams and an OpenAPI document, plus the
//! embedded web board, behind a guard that refuses foreign hosts and origins.
//! A handler parses the request, calls one engine operation, and sends its answer.

pub mod api;
mod listen;

use std::future::Future;
use std::net::SocketAddr;

use bosun_engine::{Config, Engine, StartError};
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon's own token could not be made or written.
    #[error("cannot set up the daemon's token: {0}")]
    Token(String),
    #[error("refusing to listen on {0}: only loopback addresses (127.0.0.1, ::1) are allowed until bosun has token authentication")]
    NotLoopback(SocketAddr),
}

/// Starts the engine on `config`'s data dir (taking its lock, recovering), calls
/// `ready`, and serves it on `listener` until `shutdown` completes; then stops every
/// live run. Only loopback addresses are served (there is no authentication yet).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(addr));
    }
    let mut config = config;
    config.public_url = std::env::var("BOSUN_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let mut names = config.allowed_hosts.clone();
    names.extend(config.public_url.parse::<axum::http::Uri>().ok().and_then(|u| u.host().map(str::to_string)));
    let guard = api::Guard::new(addr, &names);

    let running = Engine::start(config).await?;
    let engine = running.engine.clone();
    if let Err(e) = engine.ensure_local_token().await {
        running.shutdown().await;
        return Err(ServeError::Token(e.to_string()));
    }
    ready(addr);
    tracing::info!(%addr, data_dir = %engine.config.data_dir.display(), "bosun daemon listening");
    let closing = engine.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    let header_timeout = engine.config.header_timeout;
    let served = listen::serve(listener, api::router(engine, guard), header_timeout, listen::max_connections(), shutdown).await;
    running.shutdown().await;
    Ok(served?)
}
