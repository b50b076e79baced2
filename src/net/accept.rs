//! The accept side of every listener: [`Gate`] applies the caps and socket options to each new
//! TCP connection, and [`grpc_plain`] is the gRPC port's accept loop without TLS (the TLS loop,
//! with its handshakes, is [`crate::server::tls::incoming`]; both hand tonic [`Tracked`]
//! connections, so the caps and the idle timeout are the same with and without TLS).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::limit::{ConnLimits, Listener, Permit};
use super::streams::Registry;
use super::tracked::{IdleRule, Tracked};
use crate::config::ConnectionsConfig;

/// Established connections waiting for tonic to pick them up.
const PENDING: usize = 64;

/// What a listener applies to each accepted connection.
#[derive(Clone, Debug)]
pub struct Gate {
    /// The counts and caps of the listener.
    pub listener: Listener,
    /// `connections.idle_timeout`.
    pub idle_timeout: Duration,
    /// `connections.tcp_keepalive`.
    pub tcp_keepalive: Duration,
    /// The gRPC connections' activities, for [`super::streams::StreamLayer`].
    pub registry: Registry,
}

impl Gate {
    /// The gate of listener `name` under `[connections]`.
    pub fn new(name: &'static str, config: &ConnectionsConfig) -> Self {
        Self {
            listener: Listener::new(name, ConnLimits::from_config(config)),
            idle_timeout: config.idle_timeout.0,
            tcp_keepalive: config.tcp_keepalive.0,
            registry: Registry::default(),
        }
    }

    /// A permit for `stream` from `peer`, its socket options set; `None` (the caller drops the
    /// stream, which closes it) when a cap refuses it.
    pub fn admit(&self, stream: &TcpStream, peer: SocketAddr) -> Option<Permit> {
        let permit = self.listener.admit(peer.ip()).ok()?;
        let _ = stream.set_nodelay(true);
        let keepalive = socket2::TcpKeepalive::new().with_time(self.tcp_keepalive);
        if let Err(error) = socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive) {
            tracing::debug!(%error, %peer, "cannot set TCP keep-alive");
        }
        Some(permit)
    }

    /// Accepts the next connection of `listener`; errors such as running out of file descriptors
    /// are logged and retried after a pause instead of spinning.
    pub async fn accept(&self, listener: &TcpListener) -> (TcpStream, SocketAddr) {
        loop {
            match listener.accept().await {
                Ok(pair) => return pair,
                Err(error) => {
                    tracing::warn!(%error, listener = self.listener.name(), "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// The plain-text connections of the gRPC port, for tonic's `serve_with_incoming_shutdown`. The
/// loop ends when tonic drops the stream (at shutdown).
pub fn grpc_plain(listener: TcpListener, gate: Gate) -> ReceiverStream<io::Result<Tracked<TcpStream>>> {
    let (tx, rx) = mpsc::channel(PENDING);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                () = tx.closed() => return,
                accepted = gate.accept(&listener) => accepted,
            };
            let Some(permit) = gate.admit(&stream, peer) else {
                continue;
            };
            let tracked =
                Tracked::new(stream, permit, IdleRule::Streams, gate.idle_timeout).register(&gate.registry, peer);
            if tx.send(Ok(tracked)).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}
