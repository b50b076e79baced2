//! `isobar health`: the standard gRPC health check (`grpc.health.v1.Health/Check`), exiting 0
//! when the server answers `SERVING` and non-zero otherwise. Made for container health checks
//! and Kubernetes exec probes, where no other gRPC client is installed. The server answers
//! `NOT_SERVING` while its database refuses writes for a background failure (a full disk, a
//! failed WAL write); the message then names the reason, e.g.
//! `server at http://127.0.0.1:50051: NOT_SERVING (read-only: disk_full: ...)`.
//!
//! `--config FILE` reads the server's own configuration (the file plus `ISOBAR_*` variables,
//! exactly as `isobar serve` does) and derives everything from it: the port of
//! `server.listen` on loopback (`0.0.0.0` and `[::]` become `127.0.0.1` and `[::1]`), plain text
//! or TLS as `[tls]` says, and with TLS the certificate of `tls.cert` as the only one trusted
//! ([`crate::client::pinned`]). So one command line in `deploy/` works whether TLS is on or off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::CliError;
use crate::client::{ClientError, ClientOptions, mismatch, pinned};
use crate::config::Config;

/// `isobar health`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Exits 0 when the server reports SERVING, 1 otherwise (not serving, unreachable, timed out).

With --config, the address, plain text or TLS, and the certificate to trust come from the server's
configuration file and ISOBAR_* environment (as `isobar serve` reads them): the same command works
with [tls] on or off. With tls.client_ca set, pass --tls-cert and --tls-key as well.

Examples:
  isobar health
  isobar health --addr http://127.0.0.1:50051 --service isobar.v1.Ingest --timeout 3s
  isobar health --config /etc/isobar/isobar.toml --timeout 3s")]
pub struct HealthArgs {
    /// The service to check; empty checks the server as a whole.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Give up after this long (connect plus answer), e.g. 500ms, 3s.
    #[arg(long, default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// The server's configuration file: take the address, scheme and certificate from it (and
    /// from ISOBAR_* variables) instead of --addr and --tls-ca.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where and how to reach the server, as `--config` describes it.
#[derive(Debug)]
struct Target {
    /// Loopback address of the gRPC port.
    addr: SocketAddr,
    /// `tls.cert`'s leaf certificate when TLS is on.
    pinned: Option<tokio_rustls::rustls::pki_types::CertificateDer<'static>>,
    /// Whether the server requires client certificates.
    client_ca: bool,
}

impl Target {
    /// Reads the configuration the way `isobar serve` does.
    fn from_config(file: &Path) -> Result<Self, CliError> {
        let (config, _warnings) = Config::load(Some(file))?;
        config.validate()?;
        let pinned = match &config.tls.cert {
            None => None,
            Some(cert) => {
                let chain = crate::server::tls::certificates("tls.cert", cert)
                    .map_err(|e| CliError::Server(Box::new(e.into())))?;
                chain.into_iter().next()
            }
        };
        Ok(Self { addr: local(config.server.listen), pinned, client_ca: config.tls.client_ca.is_some() })
    }

    /// The URL people know the server by (for messages).
    fn url(&self) -> String {
        let scheme = if self.pinned.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Connects, with the client certificate of `options` when the server requires one.
    async fn channel(&self, options: &ClientOptions) -> Result<Channel, ClientError> {
        let Some(pinned) = &self.pinned else {
            return ClientOptions::default().channel(&self.url()).await;
        };
        let identity = match (&options.tls_cert, &options.tls_key) {
            (Some(cert), Some(key)) => Some(identity(cert, key)?),
            _ if self.client_ca => {
                return Err(ClientError::Tls(
                    "the server requires client certificates (tls.client_ca): pass --tls-cert and --tls-key",
                ));
            }
            _ => None,
        };
        pinned::channel(self.addr, pinned.clone(), identity).await
    }
}

/// The client certificate chain and key of `--tls-cert` and `--tls-key`.
fn identity(cert: &Path, key: &Path) -> Result<pinned::Identity, ClientError> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |what, path: &Path| {
        std::fs::read(path).map_err(|source| ClientError::File { what, path: path.to_owned(), source })
    };
    let bad = |what, path: &Path| ClientError::File {
        what,
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no PEM data of that kind in it"),
    };
    let chain = CertificateDer::pem_slice_iter(&read("TLS certificate file", cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("TLS certificate file", cert))?;
    let key_der = PrivateKeyDer::from_pem_slice(&read("TLS key file", key)?).map_err(|_| bad("TLS key file", key))?;
    Ok((chain, key_der))
}

/// The loopback address that reaches a server listening on `listen`.
pub fn local(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Parses `500ms`, `3s` or a plain number of seconds.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let parsed = if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse::<u64>().map(Duration::from_millis)
    } else {
        s.strip_suffix('s').unwrap_or(s).trim().parse::<u64>().map(Duration::from_secs)
    };
    parsed.map_err(|_| format!("{s:?} is not a duration like 500ms or 3s"))
}

/// Checks the server at `addr` (or the one `--config` describes); Ok only when it is `SERVING`.
/// TLS settings come from the global `--tls-*` flags; the health service needs no token.
pub async fn run(args: &HealthArgs, addr: &str, options: &ClientOptions) -> Result<(), CliError> {
    let target = match &args.config {
        None => None,
        Some(_) if addr != super::DEFAULT_ADDR || options.tls_ca.is_some() => {
            return Err(CliError::Argument {
                arg: "--config",
                reason: "takes the address and certificate from the server's configuration: leave out --addr and --tls-ca",
            });
        }
        Some(file) => Some(Target::from_config(file)?),
    };
    let url = target.as_ref().map_or_else(|| addr.to_owned(), Target::url);
    let addr = url.as_str();
    let check = async {
        let channel = match &target {
            Some(target) => target.channel(options).await,
            None => options.channel(addr).await,
        }
        .map_err(|e| CliError::Unhealthy(e.to_string()))?;
        let mut client = HealthClient::new(channel);
        let request = HealthCheckRequest { service: args.service.clone() };
        match client.check(request).await {
            Ok(answer) => {
                let why = read_only_reason(answer.metadata());
                Ok((answer.into_inner().status(), why))
            }
            Err(status) => Err(match mismatch::explain(addr, status.into()).await {
                mismatch @ ClientError::TlsMismatch { .. } => CliError::Unhealthy(mismatch.to_string()),
                ClientError::Status(s) => {
                    CliError::Unhealthy(format!("{addr}: health check failed: {:?}: {}", s.code(), s.message()))
                }
                other => CliError::Unhealthy(other.to_string()),
            }),
        }
    };
    let (status, why) = tokio::time::timeout(args.timeout, check)
        .await
        .map_err(|_| CliError::Unhealthy(format!("{addr}: no answer within {:?}", args.timeout)))??;
    let what = if args.service.is_empty() { "server" } else { args.service.as_str() };
    if status == ServingStatus::Serving {
        println!("{what} at {addr}: SERVING");
        Ok(())
    } else {
        let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
        Err(CliError::Unhealthy(format!("{what} at {addr}: {}{why}", status.as_str_name())))
    }
}

/// The read-only reason the server puts in a `NOT_SERVING` reply, as
/// `read-only: REASON: DETAIL` (see `server::health`).
fn read_only_reason(headers: &tonic::metadata::MetadataMap) -> Option<String> {
    use crate::server::health::{DETAIL_HEADER, REASON_HEADER};
    let reason = headers.get(REASON_HEADER)?.to_str().ok()?;
    let detail = headers.get(DETAIL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Some(format!("read-only: {reason}: {detail}"))
}
