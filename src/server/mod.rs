//! The gRPC server: opens the database, serves `Ingest`, `Query`, `Admin`, `grpc.health.v1`,
//! server reflection and (with `[otlp] enabled = true`) the OTLP metrics service on one port,
//! and shuts down gracefully.
//!
//! The server wires services, authentication, metrics and configuration; it answers no read
//! itself. `Ingest` is [`isobar_ingest::IngestService`] and `Query` is
//! [`isobar_query::service::QueryService`], each given the permission check of [`guard`] as a
//! trait object; `Admin` ([`AdminService`]) mixes reads and changes, so its tonic implementation
//! is here: it checks permissions, answers catalog changes, flushes, compactions, deletes and
//! snapshots, and hands the read-only calls to [`isobar_query::service::admin`] and
//! [`isobar_query::service::export`]. Every error becomes a status through
//! [`isobar_wire::status`] (or `isobar_query::status` for the read side).
//!
//! ```text
//! start(config) ─► Db::open (blocking pool) ─► bind ─► serve ────────────► stop()/signal
//!                                                        │ stop accepting, finish running calls
//!                                                        ▼ (at most server.shutdown_timeout)
//!                                                      Db::close (syncs the WAL) ─► Ok
//! ```
//!
//! Health: every service reports `NOT_SERVING` until the database is open and `SERVING` after;
//! on shutdown they go back to `NOT_SERVING` first, so load balancers drain the instance. In
//! between they report `NOT_SERVING` while the engine refuses writes for a background failure (a
//! failed WAL write, a full disk), with the reason in the reply metadata ([`health`]).
//! [`start`] is what `isobar serve` runs and what the end-to-end tests start in-process.
//!
//! Every call passes [`call::CallLayer`] (a span per call, bearer-token authentication, the
//! outcome log); every service checks the caller's permission on the tables a call touches with
//! [`guard`] (directly in `Admin`, as `WriteGuard` / `ReadGuard` in `Ingest` / `Query`), using
//! the permission [`rpc::Rpc::permission`] assigns to the method. With `[tls]`
//! set the port speaks only TLS (rustls, through [`tls`]'s own accept loop), optionally requiring
//! client certificates; failed handshakes are logged, rate-limited, by [`handshake_log`]. With or
//! without TLS, connections come through the server's own accept loop ([`crate::net`]): caps per
//! listener and per client IP, TCP keep-alive, and an idle timeout for connections with no call
//! (`[connections]`); HTTP/2 keep-alive PINGs and the per-connection stream cap are tonic's.

mod admin;
pub mod call;
pub mod flight;
pub mod guard;
pub mod handshake_log;
pub mod health;
pub mod otlp;
pub mod reflection;
pub mod rpc;
mod snapshot;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use isobar_ingest::{IngestLimits, IngestService};
use isobar_proto::v1::admin_server::AdminServer;
use isobar_proto::v1::ingest_server::IngestServer;
use isobar_proto::v1::query_server::QueryServer;
use isobar_query::service::QueryService;
use isobar_storage::Db;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::Authenticator;
use crate::auth::bootstrap::Bootstrap;
use crate::config::Config;
use crate::http::{LineProtocolState, WriteAuthorizer};
pub use admin::AdminService;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or closed.
    #[error("database {dir}: {source}")]
    Db {
        /// The data directory.
        dir: std::path::PathBuf,
        /// The engine's error.
        #[source]
        source: isobar_storage::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC transport failed.
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A TLS file of `[tls]` could not be read.
    #[error(transparent)]
    TlsFile(#[from] TlsFileError),
    /// The bootstrap admin token could not be read or created.
    #[error(transparent)]
    Bootstrap(#[from] crate::auth::bootstrap::BootstrapError),
    /// A blocking task of the server died.
    #[error("server task failed: {0}")]
    Task(String),
}

/// A file of `[tls]` that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {key} file {path}: {source}")]
pub struct TlsFileError {
    /// The config key (`tls.cert`, `tls.key`, `tls.client_ca`).
    pub key: &'static str,
    /// The file.
    pub path: std::path::PathBuf,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    tls: bool,
    metrics: Option<crate::metrics::MetricsServer>,
    line_protocol: Option<SocketAddr>,
    db: Db,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl Running {
    /// The address the server listens on (with the port the OS chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the Prometheus endpoint (`None` when `metrics.enabled` is false).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(crate::metrics::MetricsServer::addr)
    }

    /// The address of the line-protocol HTTP front end, when `[line_protocol] enabled = true`.
    pub fn line_protocol_addr(&self) -> Option<SocketAddr> {
        self.line_protocol
    }

    /// The URL of the server for clients: `https://` with TLS, else `http://`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The database the server serves (shared handle).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stops accepting, waits for running calls (up to the shutdown timeout), closes the database.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server has stopped (after [`Running::stop`] or a failure).
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task.await.map_err(|e| ServerError::Task(e.to_string()))?
    }

    /// Takes the stop trigger (sending on it, or dropping it, stops the server), e.g. to hand
    /// it to a signal handler while this task waits with [`Running::wait`].
    pub fn take_stop(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

/// Opens the database of `config` and serves it on `config.server.listen` (and the line
/// protocol on `config.line_protocol.listen` when enabled, admitting every writer).
pub async fn start(config: &Config) -> Result<Running, ServerError> {
    let config = with_bootstrap_token(config)?;
    start_with(&config, crate::http::authorizer_for(&config)).await
}

/// `config` with the bootstrap admin token installed when `auth.bootstrap_token_file` applies
/// ([`crate::auth::bootstrap`]); creates the data directory, where a relative file lives.
fn with_bootstrap_token(config: &Config) -> Result<Config, crate::auth::bootstrap::BootstrapError> {
    let mut config = config.clone();
    let dir = &config.server.data_dir;
    if config.auth.enabled && config.auth.tokens.is_empty() && !config.auth.bootstrap_token_file.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| crate::auth::bootstrap::BootstrapError {
            path: dir.clone(),
            reason: format!("cannot create the data directory: {source}"),
        })?;
    }
    match crate::auth::bootstrap::first_token(&mut config.auth, dir)? {
        Bootstrap::Unused => {}
        Bootstrap::Created(path) => tracing::warn!(
            path = %path.display(),
            "authentication is on and no [[auth.tokens]] are configured: generated an admin token; \
             its secret is in {} (mode 0600). Clients: --token-file FILE or $ISOBAR_TOKEN",
            path.display()
        ),
        Bootstrap::Reused(path) => tracing::info!(
            path = %path.display(),
            "no [[auth.tokens]] configured: accepting the bootstrap admin token in {}",
            path.display()
        ),
    }
    Ok(config)
}

/// [`start`] with the authorizer of line-protocol writes.
pub async fn start_with(config: &Config, authorizer: Arc<dyn WriteAuthorizer>) -> Result<Running, ServerError> {
    let config = &with_bootstrap_token(config)?;
    let tls = tls::server_config(&config.tls)?;
    let dir = config.server.data_dir.clone();
    let options = config.storage.to_options();
    let open_dir = dir.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&open_dir, options))
        .await
        .map_err(|e| ServerError::Task(e.to_string()))?
        .map_err(|source| ServerError::Db { dir: dir.clone(), source })?;
    let addr = config.server.listen;
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(source) => {
            let _ = db.close();
            return Err(ServerError::Bind { addr, source });
        }
    };
    let local = listener.local_addr().map_err(|source| ServerError::Bind { addr, source })?;
    let requests = crate::metrics::RequestMetrics::default();
    let metrics = match config.metrics.enabled {
        false => None,
        true => match crate::metrics::MetricsServer::start(config, db.clone(), requests.clone()).await {
            Ok(m) => Some(m),
            Err(source) => {
                let _ = db.close();
                return Err(ServerError::Bind { addr: config.metrics.listen, source });
            }
        },
    };
    let http = match config.line_protocol.enabled {
        false => None,
        true => {
            let addr = config.line_protocol.listen;
            let bound = match TcpListener::bind(addr).await {
                Ok(l) => l.local_addr().map(|a| (l, a)),
                Err(e) => Err(e),
            };
            match bound {
                Ok((l, a)) => {
                    let state = LineProtocolState::new(config, db.clone(), authorizer);
                    Some((l, a, crate::http::router(Arc::new(state))))
                }
                Err(source) => {
                    let _ = db.close();
                    return Err(ServerError::Bind { addr, source });
                }
            }
        }
    };
    let line_protocol = http.as_ref().map(|(_, a, _)| *a);
    let http = http.map(|(l, _, router)| (l, router));
    let (stop, stopped) = oneshot::channel();
    let with_tls = tls.is_some();
    let task = tokio::spawn(serve(config.clone(), db.clone(), listener, tls, http, stopped, requests));
    Ok(Running { addr: local, tls: with_tls, metrics, line_protocol, db, stop: Some(stop), task })
}

/// Serves until `stopped` fires (or its sender is dropped), then closes the database.
async fn serve(
    config: Config,
    db: Db,
    listener: TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    http: Option<(TcpListener, axum::Router)>,
    stopped: oneshot::Receiver<()>,
    requests: crate::metrics::RequestMetrics,
) -> Result<(), ServerError> {
    let max = config.server.max_message_bytes.as_usize();
    let limits = IngestLimits {
        max_rows_per_request: config.server.max_rows_per_request,
        max_inflight_bytes: config.server.max_inflight_write_bytes.0,
    };
    // Agents (`isobar agent`, compression = "zstd") may send zstd-compressed writes.
    let ingest = IngestService::new(db.clone(), limits).with_guard(std::sync::Arc::new(guard::IngestGuard));
    let flight_ingest =
        flight::ingest::IngestPath::new(db.clone(), ingest.admission(), config.server.max_rows_per_request);
    let flight = flight::FlightSql::new(flight_ingest)
        .map_err(|e| ServerError::Task(format!("flight sql: {}", e.message())))?
        .into_server(max);
    let ingest = IngestServer::new(ingest)
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let query = QueryService::new(db.clone()).with_guard(std::sync::Arc::new(guard::QueryGuard));
    let query = QueryServer::new(query).max_decoding_message_size(max).max_encoding_message_size(max);
    let admin_service = AdminService::new(db.clone(), config.server.export_root())
        .with_snapshot_dir(config.server.snapshot_root())
        .with_export_max_bytes(config.server.export_max_bytes.0);
    let admin = AdminServer::new(admin_service).max_decoding_message_size(max).max_encoding_message_size(max);
    // Health follows the engine: NOT_SERVING while it refuses writes (see `health`).
    let health = tonic_health::server::HealthReporter::new();
    let health_service =
        tonic_health::pb::health_server::HealthServer::new(health::EngineHealth::new(health.clone(), db.clone()));
    let reflection = reflection::builder().build_v1().map_err(|e| ServerError::Task(format!("reflection: {e}")))?;
    let reflection_v1alpha =
        reflection::builder().build_v1alpha().map_err(|e| ServerError::Task(format!("reflection v1alpha: {e}")))?;
    set_health(&health, tonic_health::ServingStatus::Serving).await;
    let health_watcher = tokio::spawn(health::watch_read_only(health.clone(), db.clone()));

    let timeout = config.server.shutdown_timeout.0;
    let (drained_tx, drained_rx) = oneshot::channel::<()>();
    let health_on_stop = health.clone();
    let (http_stop, http_stopped) = oneshot::channel::<()>();
    let http_task = http.map(|(l, router)| {
        tracing::info!(addr = ?l.local_addr().ok(), "serving InfluxDB line protocol over HTTP");
        let gate = crate::net::accept::Gate::new("line_protocol", &config.connections);
        requests.watch_listener(gate.listener.clone());
        let timeouts = crate::net::http1::HttpTimeouts::from_config(&config.connections);
        let lp_tls = tls.as_ref().map(tls::http1_config);
        tokio::spawn(crate::http::serve(l, gate, timeouts, lp_tls, router, async move {
            let _ = http_stopped.await;
        }))
    });
    let grpc_gate = crate::net::accept::Gate::new("grpc", &config.connections);
    requests.watch_listener(grpc_gate.listener.clone());
    let limits = &config.connections;
    let signal = async move {
        let _ = stopped.await;
        let _ = http_stop.send(());
        // The watcher would report the closed database as serving again.
        health_watcher.abort();
        set_health(&health_on_stop, tonic_health::ServingStatus::NotServing).await;
        tracing::info!("shutting down: no new connections, waiting for running calls");
        let _ = drained_tx.send(());
    };
    let router = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(limits.grpc_keepalive_interval.0))
        .http2_keepalive_timeout(Some(limits.grpc_keepalive_timeout.0))
        .max_concurrent_streams(limits.grpc_max_concurrent_streams)
        .layer(crate::metrics::RequestLayer::new(requests))
        .layer(crate::net::streams::StreamLayer::new(grpc_gate.registry.clone()))
        .layer(call::CallLayer::new(Authenticator::from_config(&config.auth)))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(flight)
        .add_service(ingest)
        .add_service(query)
        .add_service(admin)
        .add_optional_service(config.otlp.enabled.then(|| {
            tracing::info!(family = %config.otlp.family, "serving OTLP metrics (MetricsService/Export) on the gRPC port");
            MetricsServiceServer::new(otlp::OtlpService::new(db.clone(), &config))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max)
        }));
    let served: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), tonic::transport::Error>> + Send>> =
        match tls {
            Some(tls) => Box::pin(router.serve_with_incoming_shutdown(tls::incoming(listener, tls, grpc_gate), signal)),
            None => Box::pin(
                router.serve_with_incoming_shutdown(crate::net::accept::grpc_plain(listener, grpc_gate), signal),
            ),
        };
    let result = tokio::select! {
        r = served => r.map_err(ServerError::from),
        () = deadline_after(drained_rx, timeout) => {
            tracing::warn!(?timeout, "running calls did not finish within server.shutdown_timeout; closing anyway");
            Ok(())
        }
    };
    if let Some(task) = http_task {
        // Running HTTP writes finish first (bounded like the gRPC calls) before the close.
        match tokio::time::timeout(timeout, task).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "line-protocol HTTP server failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "line-protocol HTTP server task failed"),
            Ok(Ok(Ok(()))) => {}
            Err(_) => tracing::warn!("line-protocol requests did not finish within server.shutdown_timeout"),
        }
    }
    let dir = db.path().to_path_buf();
    let closed = tokio::task::spawn_blocking(move || db.close()).await.map_err(|e| ServerError::Task(e.to_string()))?;
    closed.map_err(|source| ServerError::Db { dir, source })?;
    tracing::info!("database closed; server stopped");
    result
}

/// Completes `timeout` after `start` fires; never if it is dropped unfired.
async fn deadline_after(start: oneshot::Receiver<()>, timeout: Duration) {
    if start.await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(timeout).await;
}

/// Sets the overall status and that of every Isobar service.
async fn set_health(reporter: &tonic_health::server::HealthReporter, status: tonic_health::ServingStatus) {
    for name in health::SERVICES {
        reporter.set_service_status(name, status).await;
    }
}
