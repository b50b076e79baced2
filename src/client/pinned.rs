//! A TLS channel that trusts exactly one certificate: the server's own, read from its `[tls]
//! cert` file.
//!
//! `isobar health --config FILE` runs next to the server (a container `HEALTHCHECK`, a
//! Kubernetes exec probe, a systemd watchdog) and connects to it over loopback. The server's
//! certificate names the public host (`db.example.com`), not `127.0.0.1`, and its CA may not be on
//! the machine at all, so ordinary verification would fail for reasons that say nothing about
//! health. Pinning is at least as strict: the handshake succeeds only when the server presents
//! byte for byte the certificate of the configuration and proves, with its signature, that it
//! holds the matching key. Names and validity dates are not checked: the probe asks "is my own
//! server up", not "is this a server I may send secrets to" (it sends none).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

use super::ClientError;

/// Accepts the one pinned end-entity certificate, with a valid handshake signature.
#[derive(Debug)]
struct PinnedCert {
    pinned: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("the server presented a certificate other than the one in tls.cert".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Opens TCP plus TLS to one address for tonic (`Endpoint::connect_with_connector`).
#[derive(Clone)]
struct Connector {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let (addr, config) = (self.addr, self.config.clone());
        Box::pin(async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let tls = TlsConnector::from(config).connect(ServerName::from(addr.ip()), tcp).await?;
            Ok(TokioIo::new(tls))
        })
    }
}

/// A client certificate chain and its key, for servers that require one.
pub type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Connects to `addr` over TLS, trusting only `pinned` as the server's certificate.
pub async fn channel(
    addr: SocketAddr,
    pinned: CertificateDer<'static>,
    identity: Option<Identity>,
) -> Result<Channel, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCert { pinned, provider: provider.clone() });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| ClientError::Tls("no TLS protocol version in common with the crypto provider"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|_| ClientError::Tls("--tls-key does not fit --tls-cert (or is not a supported key)"))?,
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let url = format!("http://{addr}");
    let endpoint =
        Endpoint::from_shared(url.clone()).map_err(|source| ClientError::Address { addr: url.clone(), source })?;
    let connector = Connector { addr, config: Arc::new(config) };
    endpoint
        .connect_with_connector(connector)
        .await
        .map_err(|source| ClientError::Connect { addr: format!("https://{addr}"), source })
}
