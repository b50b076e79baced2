//! The TLS side of the gRPC port: the rustls settings `[tls]` describes, and the accept loop
//! that runs the handshakes.
//!
//! tonic's own `ServerTlsConfig` drops a failed handshake without a word, so an operator whose
//! clients cannot connect sees nothing in the log. This module accepts TCP connections itself,
//! runs each handshake in its own task (bounded by [`HANDSHAKE_TIMEOUT`], at most
//! [`MAX_HANDSHAKES`] at once, so a slow or silent client holds up no one) and hands the
//! established TLS streams to tonic as its incoming stream. Failures go to
//! [`super::handshake_log`], which logs them rate-limited. The certificate chain, key and
//! client CA are read and checked when the server starts, so a bad file fails the start naming
//! its key.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

use super::TlsFileError;
use super::handshake_log::{Failure, HandshakeLog};
use crate::config::TlsConfig;
use crate::net::Tracked;
use crate::net::accept::Gate;
use crate::net::tracked::IdleRule;

/// Longest a client may take to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes running at once; further connections wait in the listen backlog.
pub const MAX_HANDSHAKES: usize = 256;

/// Established connections waiting for tonic to pick them up.
const PENDING: usize = 64;

/// The rustls settings `[tls]` describes (`None` without `cert` and `key`), its files read and
/// checked now so that a bad path or PEM fails the start.
pub fn server_config(tls: &TlsConfig) -> Result<Option<Arc<ServerConfig>>, TlsFileError> {
    let (Some(cert), Some(key)) = (&tls.cert, &tls.key) else {
        return Ok(None);
    };
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let chain = certificates("tls.cert", cert)?;
    let key_der = PrivateKeyDer::from_pem_slice(&read("tls.key", key)?)
        .map_err(|e| invalid("tls.key", key, format!("no PEM private key in it ({e})")))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("tls.cert", cert, e.to_string()))?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for der in certificates("tls.client_ca", ca)? {
                roots.add(der).map_err(|e| invalid("tls.client_ca", ca, e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| invalid("tls.client_ca", ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| invalid("tls.key", key, format!("does not fit tls.cert: {e}")))?;
    // gRPC is HTTP/2 only.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// `grpc` with ALPN `http/1.1` instead of `h2`: the same certificate, key and client CA for the
/// line-protocol HTTP listener.
pub fn http1_config(grpc: &Arc<ServerConfig>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::clone(grpc);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Reads a whole file of `[tls]`.
fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|source| TlsFileError { key, path: path.to_owned(), source })
}

/// Every PEM certificate of a file; at least one.
pub fn certificates(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let chain = CertificateDer::pem_slice_iter(&read(key, path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(key, path, format!("not a PEM certificate file ({e})")))?;
    if chain.is_empty() {
        return Err(invalid(key, path, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    Ok(chain)
}

/// A file that was read but cannot be used.
fn invalid(key: &'static str, path: &Path, reason: String) -> TlsFileError {
    TlsFileError { key, path: path.to_owned(), source: io::Error::new(io::ErrorKind::InvalidData, reason) }
}

/// A TLS connection as tonic gets it: under the caps and idle timeout of [`Gate`].
pub type Connection = Tracked<TlsStream<TcpStream>>;

/// The TLS connections of `listener`, for tonic's `serve_with_incoming_shutdown`. The accept
/// loop ends when tonic drops the stream (at shutdown).
pub fn incoming(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    gate: Gate,
) -> ReceiverStream<io::Result<Connection>> {
    let (tx, rx) = mpsc::channel(PENDING);
    tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), gate, tx));
    ReceiverStream::new(rx)
}

/// Accepts connections (a connection over a cap of `gate` is closed at once, before any
/// handshake work) and starts a handshake task for each.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    gate: Gate,
    tx: mpsc::Sender<io::Result<Connection>>,
) {
    let log = Arc::new(HandshakeLog::default());
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (stream, peer) = tokio::select! {
            () = tx.closed() => return,
            accepted = gate.accept(&listener) => accepted,
        };
        let Some(permit) = gate.admit(&stream, peer) else {
            continue;
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (acceptor, tx, log, gate) = (acceptor.clone(), tx.clone(), log.clone(), gate.clone());
        tokio::spawn(async move {
            match handshake(&acceptor, stream).await {
                Ok(tls) => {
                    drop(slot);
                    let tracked =
                        Tracked::new(tls, permit, IdleRule::Streams, gate.idle_timeout).register(&gate.registry, peer);
                    let _ = tx.send(Ok(tracked)).await;
                }
                Err(Some(failure)) => log.failed(peer, &failure),
                // Closed before sending a byte: a port check, not a handshake.
                Err(None) => {}
            }
        });
    }
}

/// Runs the server side of one handshake; `Err(None)` when the client sent nothing at all.
pub(crate) async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, Option<Failure>> {
    let attempt = async {
        let mut first = [0u8; 4];
        let seen = stream.peek(&mut first).await.unwrap_or(0);
        if seen == 0 {
            return Err(None);
        }
        let opening = first.get(..seen).unwrap_or_default().to_vec();
        acceptor.accept(stream).await.map_err(|error| Some(Failure::classify(&opening, &error)))
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, attempt).await.map_err(|_| Some(Failure::TimedOut(HANDSHAKE_TIMEOUT)))?
}
