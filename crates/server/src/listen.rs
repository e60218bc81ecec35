//! The accept loop: each HTTP/1 connection served by hyper with a timeout for its
//! request headers (a client that trickles them in, slowloris-style, is cut off), at
//! most a bounded number of connections at once (below the process's file limit, so
//! the daemon keeps descriptors for its database, logs and agents' pipes), accept
//! errors backed off rather than retried at once, and a graceful shutdown. With a
//! certificate, each connection is TLS (rustls) first, its handshake held to the same
//! timeout as the headers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

/// File descriptors kept for the daemon's own use beyond its connections.
const HEADROOM: u64 = 256;
/// How long open connections get to finish once shutdown starts.
const DRAIN: Duration = Duration::from_secs(10);

/// Connections at once: the file limit less [`HEADROOM`], within 16..=8192.
pub fn max_connections() -> usize {
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).map(|(soft, _)| soft).unwrap_or(1024);
    soft.saturating_sub(HEADROOM).clamp(16, 8192) as usize
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` completes,
/// then lets the open connections finish (for at most [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    header_timeout: Duration,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = Duration::from_millis(5);
    loop {
        // At the limit, new connections wait in the kernel's queue, not in our files.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff = Duration::from_millis(5);
                    (stream, peer)
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors, most likely: wait for some to be freed.
                    tracing::warn!("accepting a connection failed, retrying in {backoff:?}: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut shutdown => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (router, watcher, tls) = (router.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => connection(stream, peer, router, header_timeout, watcher, permit).await,
                Some(tls) => match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => connection(stream, peer, router, header_timeout, watcher, permit).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                },
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open {DRAIN:?} into the shutdown");
    }
    Ok(())
}

/// Serves one connection's requests; its permit is given back when it ends. Every
/// request carries the peer's address (`ConnectInfo`): failed logins are counted per
/// client address.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    watcher: Watcher,
    permit: OwnedSemaphorePermit,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let service = tower::Layer::layer(&axum::Extension(ConnectInfo(peer)), router);
    let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("connection ended: {e}");
    }
    drop(permit);
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
