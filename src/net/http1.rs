//! [`serve`]: the HTTP/1.1 listeners (line protocol, metrics) with the connection caps of a
//! [`Gate`], hyper's header-read timeout, a body-read timeout ([`TimedBody`]) and the idle
//! timeout of [`Tracked`] (no byte in either direction for `connections.idle_timeout`).
//!
//! With `[tls]` the line-protocol listener speaks HTTPS with the server's certificate (ALPN
//! `http/1.1`); failed handshakes are logged like the gRPC port's.
//!
//! At shutdown the loop stops accepting, asks every open connection to finish its current
//! request and close, and returns once all have.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use super::accept::Gate;
use super::body::TimedBody;
use super::tracked::{IdleRule, Tracked};
use crate::config::ConnectionsConfig;
use crate::server::handshake_log::HandshakeLog;

/// The client address of a request, in its extensions (handlers log refusals with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

/// The request type handlers of [`serve`] receive.
pub type Request = http::Request<TimedBody<Incoming>>;

/// The HTTP timeouts of `[connections]`.
#[derive(Clone, Copy, Debug)]
pub struct HttpTimeouts {
    /// `connections.header_read_timeout`.
    pub header_read: Duration,
    /// `connections.body_read_timeout`.
    pub body_read: Duration,
}

impl HttpTimeouts {
    /// The timeouts `[connections]` sets.
    pub fn from_config(config: &ConnectionsConfig) -> Self {
        Self { header_read: config.header_read_timeout.0, body_read: config.body_read_timeout.0 }
    }
}

/// Serves `service` on `listener` (over TLS with `tls`, whose handshakes run in the connection
/// tasks, each within [`crate::server::tls::HANDSHAKE_TIMEOUT`]) until `shutdown` completes,
/// then lets open connections finish their current request.
pub async fn serve<S, B>(
    listener: TcpListener,
    gate: Gate,
    timeouts: HttpTimeouts,
    tls: Option<Arc<ServerConfig>>,
    service: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: tower_service::Service<Request, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tls = tls.map(|config| (TlsAcceptor::from(config), Arc::new(HandshakeLog::for_port("line-protocol"))));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = gate.accept(&listener) => accepted,
        };
        let Some(permit) = gate.admit(&stream, peer) else {
            continue;
        };
        let idle_timeout = gate.idle_timeout;
        let service = service.clone();
        let body_read = timeouts.body_read;
        let handler = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let mut service = service.clone();
            let mut request = request.map(|body| TimedBody::new(body, body_read));
            request.extensions_mut().insert(Peer(peer));
            async move {
                std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                service.call(request).await
            }
        });
        let mut stop = stop_rx.clone();
        let stopped = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        let tls = tls.clone();
        connections.spawn(async move {
            let served = match tls {
                None => {
                    let io = Tracked::new(stream, permit, IdleRule::Bytes, idle_timeout);
                    serve_one(io, handler, timeouts.header_read, stopped).await
                }
                // The handshake runs in the connection's own task, bounded by its timeout.
                Some((acceptor, log)) => match crate::server::tls::handshake(&acceptor, stream).await {
                    Ok(stream) => {
                        let io = Tracked::new(stream, permit, IdleRule::Bytes, idle_timeout);
                        serve_one(io, handler, timeouts.header_read, stopped).await
                    }
                    Err(Some(failure)) => {
                        log.failed(peer, &failure);
                        Ok(())
                    }
                    Err(None) => Ok(()),
                },
            };
            if let Err(error) = served {
                tracing::debug!(%error, %peer, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection until it closes, or until `stopped` (then it finishes the request in
/// progress and closes).
async fn serve_one<IO, H, B>(
    io: Tracked<IO>,
    handler: H,
    header_read: Duration,
    stopped: impl Future<Output = ()>,
) -> hyper::Result<()>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: hyper::service::Service<http::Request<Incoming>, Response = http::Response<B>>,
    H::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    H::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_read).keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(io), handler);
    tokio::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => served,
        () = stopped => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}
