//! The accept loop: every TCP connection is counted against a cap kept below the process's
//! file-descriptor limit, served over HTTP/1.1 with a header-read timeout (which also closes
//! idle keep-alive connections) and TCP_NODELAY, and may become a WebSocket. The peer address
//! is attached to the request as [`Connection`] for the per-client key and goes nowhere else.
//! With `server.tls_cert_file` set, each connection is TLS ([`tls`]) before it is HTTP.

mod error_heads;
pub mod tls;

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use self::error_heads::{HeaderLines, SecureErrorHeads};
use crate::{
    abuse::{Connection, ConnectionPermit, Protection},
    metrics::{Metrics, Reason},
};

pub struct ServeOptions {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    /// Haven's own TLS, when configured.
    pub tls: Option<tls::Tls>,
    /// The security headers for hyper's own 400 and 431 answers.
    pub error_headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

/// Serves `router` until `stop`, then waits (at most `grace`) for HTTP connections to finish
/// and WebSockets to close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    metrics: Metrics,
    protection: Protection,
    stop: CancellationToken,
    grace: Duration,
) {
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    let lines: HeaderLines = options
        .error_headers
        .iter()
        .flat_map(|(name, value)| {
            [name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"].concat()
        })
        .collect::<Vec<u8>>()
        .into();
    let handshake_timeout = options.header_read_timeout;
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors (or a transient error): back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(global) = permits.clone().try_acquire_owned() else {
            metrics.rejected(Reason::connection_cap);
            drop(tcp);
            continue;
        };
        let Ok(client) = protection.open_connection(peer) else {
            metrics.rejected(Reason::connections_per_client);
            drop(tcp);
            continue;
        };
        // Chat frames are small and interactive: without TCP_NODELAY a reply that follows
        // another (`message` then `ack`) waits ~40 ms for the peer's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            peer,
            permit: Arc::new(ConnectionPermit { global, client }),
        };
        let guard = metrics.connection();
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(connection.clone());
            // The peer address for the login throttle (hashed there, never logged or stored).
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(connection.peer));
            let router = router.clone();
            async move {
                Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|e| match e {}))
            }
        });
        let http = http.clone();
        let stop = stop.clone();
        let tls = options.tls.as_ref().map(tls::Tls::acceptor);
        let lines = lines.clone();
        tokio::spawn(async move {
            let _guard = guard;
            match tls {
                None => {
                    let io = SecureErrorHeads::new(tcp, lines);
                    serve_connection(&http, io, service, stop, grace).await;
                }
                Some(acceptor) => {
                    // A client that never finishes the handshake holds its slot no longer than
                    // one that never sends its headers.
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let io = SecureErrorHeads::new(stream, lines);
                            serve_connection(&http, io, service, stop, grace).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    // Every connection (HTTP or WebSocket) holds a permit: wait until they are all back.
    let all = u32::try_from(options.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, permits.acquire_many(all)).await;
}

/// One HTTP/1.1 connection (it may become a WebSocket) until it ends or Haven stops.
async fn serve_connection<I, S>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    stop: CancellationToken,
    grace: Duration,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = axum::body::Body> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn).await;
        }
    }
}
