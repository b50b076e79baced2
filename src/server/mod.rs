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
//!                                                        │ stop accepting; cancel streams and
//!                                                        │ exports with UNAVAILABLE ([`shutdown`]);
//!                                                        │ finish the other running calls
//!                                                        ▼ (at most server.shutdown_timeout, then cancel)
//!                                                      Db::flush (at most server.shutdown_flush_timeout)
//!                                                        ▼
//!                                                      Db::close (syncs the WAL) ─► Ok, or Err and a final ERROR line
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

mod access;
mod admin;
pub mod call;
pub mod flight;
pub mod guard;
pub mod handshake_log;
pub mod health;
pub mod otlp;
pub mod postgres;
pub mod reflection;
pub mod rpc;
pub mod shutdown;
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
use crate::auth::store::AccessStore;
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
    /// The access catalog stored in the database could not be read.
    #[error("access catalog: {0}")]
    Access(#[source] crate::auth::store::StoreError),
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
    postgres: Option<SocketAddr>,
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

    /// The address of the PostgreSQL front end, when `[postgres] enabled = true`.
    pub fn postgres_addr(&self) -> Option<SocketAddr> {
        self.postgres
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
    start_inner(config, None).await
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
    start_inner(config, Some(authorizer)).await
}

/// [`start`], with line-protocol writes checked by `authorizer`, or (`None`) by the server's
/// live tokens when `[auth]` is on.
async fn start_inner(config: &Config, authorizer: Option<Arc<dyn WriteAuthorizer>>) -> Result<Running, ServerError> {
    let config = &with_bootstrap_token(config)?;
    let tls = tls::server_config(&config.tls)?;
    let dir = config.server.data_dir.clone();
    // The server never stores a write that no read could return: a backfill into a table with a
    // short TTL is refused naming the TTL instead of vanishing silently (docs/import.md).
    let options = isobar_storage::Options { refuse_expired_writes: true, ..config.storage.to_options() };
    let open_dir = dir.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&open_dir, options))
        .await
        .map_err(|e| ServerError::Task(e.to_string()))?
        .map_err(|source| ServerError::Db { dir: dir.clone(), source })?;
    let authenticator = Authenticator::from_config(&config.auth);
    let open_access = (db.clone(), authenticator.clone());
    let access = tokio::task::spawn_blocking(move || AccessStore::open(open_access.0, open_access.1))
        .await
        .map_err(|e| ServerError::Task(e.to_string()))?;
    let access = match access {
        Ok(access) => Arc::new(access),
        Err(source) => {
            let _ = db.close();
            return Err(ServerError::Access(source));
        }
    };
    let first = {
        let (store, auth) = (access.clone(), config.auth.clone());
        tokio::task::spawn_blocking(move || crate::auth::bootstrap::catalog_admin(&store, &auth))
    }
    .await
    .map_err(|e| ServerError::Task(e.to_string()))?;
    match first {
        Ok(None) => {}
        Ok(Some(secret)) => tracing::warn!(
            user = crate::auth::bootstrap::CATALOG_ADMIN,
            "authentication is on, no [[auth.tokens]] and no users: created the user \"admin\" with admin on \"*\" \
             and its token \"bootstrap\"; its secret is shown this once: {secret} (clients: --token-file FILE or \
             $ISOBAR_TOKEN; create your own users and tokens, then `isobar token revoke admin bootstrap`)"
        ),
        Err(source) => {
            let _ = db.close();
            return Err(ServerError::Access(source));
        }
    }
    let authorizer: Arc<dyn WriteAuthorizer> = match (authorizer, config.auth.enabled) {
        (Some(given), _) => given,
        (None, true) => Arc::new(crate::http::TokenWrites(authenticator.clone())),
        (None, false) => Arc::new(crate::http::AllowAll),
    };
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
        true => {
            match crate::metrics::MetricsServer::start(config, db.clone(), requests.clone(), &authenticator).await {
                Ok(m) => Some(m),
                Err(source) => {
                    let _ = db.close();
                    return Err(ServerError::Bind { addr: config.metrics.listen, source });
                }
            }
        }
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
    let postgres_listener = match config.postgres.enabled {
        false => None,
        true => match TcpListener::bind(config.postgres.listen).await {
            Ok(l) => Some(l),
            Err(source) => {
                let _ = db.close();
                return Err(ServerError::Bind { addr: config.postgres.listen, source });
            }
        },
    };
    let postgres = postgres_listener.as_ref().and_then(|l| l.local_addr().ok());
    let (stop, stopped) = oneshot::channel();
    let with_tls = tls.is_some();
    let listeners = Listeners { grpc: listener, http, postgres: postgres_listener };
    let task = tokio::spawn(serve(config.clone(), db.clone(), listeners, tls, stopped, requests, access));
    Ok(Running { addr: local, tls: with_tls, metrics, line_protocol, postgres, db, stop: Some(stop), task })
}

/// The bound listeners of a starting server.
struct Listeners {
    grpc: TcpListener,
    http: Option<(TcpListener, axum::Router)>,
    postgres: Option<TcpListener>,
}

/// Serves until `stopped` fires (or its sender is dropped), then closes the database.
async fn serve(
    config: Config,
    db: Db,
    listeners: Listeners,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    stopped: oneshot::Receiver<()>,
    requests: crate::metrics::RequestMetrics,
    access: Arc<AccessStore>,
) -> Result<(), ServerError> {
    let Listeners { grpc: listener, http, postgres } = listeners;
    let authenticator = access.authenticator().clone();
    let max = config.server.max_message_bytes.as_usize();
    let limits = IngestLimits {
        max_rows_per_request: config.server.max_rows_per_request,
        max_inflight_bytes: config.server.max_inflight_write_bytes.0,
    };
    // Agents (`isobar agent`, compression = "zstd") may send zstd-compressed writes.
    let ingest = IngestService::new(db.clone(), limits).with_guard(std::sync::Arc::new(guard::IngestGuard));
    let flight_ingest =
        flight::ingest::IngestPath::new(db.clone(), ingest.admission(), config.server.max_rows_per_request);
    let sql_engine = isobar_sql::SqlEngine::new(db.clone(), config.sql.options());
    let (postgres_stop, postgres_stopped) = tokio::sync::watch::channel(false);
    let postgres_task = postgres.map(|l| {
        let (config, engine, auth, tls) = (config.clone(), sql_engine.clone(), authenticator.clone(), tls.clone());
        tokio::spawn(async move { postgres::serve(&config, l, &engine, auth, tls, postgres_stopped).await })
    });
    let flight_sql = flight::query::SqlPath::new(sql_engine, config.sql.max_prepared_statements);
    let flight = flight::FlightSql::new(flight_ingest, flight_sql)
        .map_err(|e| ServerError::Task(format!("flight sql: {}", e.message())))?
        .into_server(max);
    let ingest = IngestServer::new(ingest)
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let query = QueryService::new(db.clone()).with_guard(std::sync::Arc::new(guard::QueryGuard));
    let query = QueryServer::new(query).max_decoding_message_size(max).max_encoding_message_size(max);
    let admin_service = AdminService::new(db.clone(), config.server.export_root(), access)
        .with_snapshot_dir(config.server.snapshot_root())
        .with_export_max_bytes(config.server.export_max_bytes.0);
    let admin = AdminServer::new(admin_service).max_decoding_message_size(max).max_encoding_message_size(max);
    // Health follows the engine: NOT_SERVING while it refuses writes (see `health`).
    let health = tonic_health::server::HealthReporter::new();
    let reported = health::ReadOnlyReported::default();
    let health_service = tonic_health::pb::health_server::HealthServer::new(health::EngineHealth::new(
        health.clone(),
        db.clone(),
        reported.clone(),
    ));
    let reflection = reflection::builder().build_v1().map_err(|e| ServerError::Task(format!("reflection: {e}")))?;
    let reflection_v1alpha =
        reflection::builder().build_v1alpha().map_err(|e| ServerError::Task(format!("reflection v1alpha: {e}")))?;
    set_health(&health, tonic_health::ServingStatus::Serving).await;
    let health_watcher = tokio::spawn(health::watch_read_only(health.clone(), db.clone(), reported.clone()));

    let timeout = config.server.shutdown_timeout.0;
    let (shutdown, shutdown_layer) = shutdown::Shutdown::new();
    let shutdown = Arc::new(shutdown);
    let shutdown_on_signal = Arc::clone(&shutdown);
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
        let _ = postgres_stop.send(true);
        // The watcher would report the closed database as serving again.
        health_watcher.abort();
        reported.shutting_down();
        set_health(&health_on_stop, tonic_health::ServingStatus::NotServing).await;
        tracing::info!(
            "shutting down: no new connections; streams and exports cancelled with UNAVAILABLE, waiting for the \
             other running calls"
        );
        shutdown_on_signal.begin();
        let _ = drained_tx.send(());
    };
    let router = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(limits.grpc_keepalive_interval.0))
        .http2_keepalive_timeout(Some(limits.grpc_keepalive_timeout.0))
        .max_concurrent_streams(limits.grpc_max_concurrent_streams)
        .layer(crate::metrics::RequestLayer::new(requests))
        .layer(crate::net::streams::StreamLayer::new(grpc_gate.registry.clone()))
        .layer(call::CallLayer::new(authenticator))
        .layer(shutdown_layer)
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
    let mut served: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), tonic::transport::Error>> + Send>> =
        match tls {
            Some(tls) => Box::pin(router.serve_with_incoming_shutdown(tls::incoming(listener, tls, grpc_gate), signal)),
            None => Box::pin(
                router.serve_with_incoming_shutdown(crate::net::accept::grpc_plain(listener, grpc_gate), signal),
            ),
        };
    let result = tokio::select! {
        r = &mut served => r.map_err(ServerError::from),
        () = deadline_after(drained_rx, timeout) => {
            tracing::warn!(?timeout, "running calls did not finish within server.shutdown_timeout; cancelling them with UNAVAILABLE");
            shutdown.deadline();
            match tokio::time::timeout(CANCEL_GRACE, &mut served).await {
                Ok(r) => r.map_err(ServerError::from),
                Err(_) => {
                    tracing::warn!(?CANCEL_GRACE, "connections stayed open after the cancellation; closing anyway");
                    Ok(())
                }
            }
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
    if let Some(task) = postgres_task {
        let _ = tokio::time::timeout(timeout, task).await;
    }
    flush_within(&db, config.server.shutdown_flush_timeout.0).await;
    let dir = db.path().to_path_buf();
    let closed = tokio::task::spawn_blocking(move || db.close()).await.map_err(|e| ServerError::Task(e.to_string()))?;
    if let Err(source) = closed {
        let error = ServerError::Db { dir, source };
        tracing::error!(%error, "server stopped: the database did not close cleanly (exit code 1)");
        return Err(error);
    }
    match &result {
        Ok(()) => tracing::info!("database closed; server stopped"),
        Err(error) => tracing::error!(%error, "server stopped: the gRPC server failed (exit code 1)"),
    }
    result
}

/// How long connections get to close after the remaining calls were cancelled.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Flushes the memtables before the close, so that the next start replays (almost) no WAL, when
/// that fits in `budget` (`server.shutdown_flush_timeout`; zero skips it). Past the budget, or
/// when the flush fails, the close goes on: the WAL still holds every acknowledged write.
async fn flush_within(db: &Db, budget: Duration) {
    if budget.is_zero() {
        return;
    }
    let started = std::time::Instant::now();
    let flushing = db.clone();
    let flush = tokio::task::spawn_blocking(move || flushing.flush());
    match tokio::time::timeout(budget, flush).await {
        Ok(Ok(Ok(()))) => {
            tracing::info!(duration_ms = started.elapsed().as_millis() as u64, "memtables flushed before closing");
        }
        Ok(Ok(Err(error))) => {
            tracing::warn!(%error, "memtables not flushed before closing; the next start replays them from the WAL");
        }
        Ok(Err(error)) => tracing::warn!(%error, "the shutdown flush task failed; the next start replays the WAL"),
        Err(_) => tracing::warn!(
            ?budget,
            "memtables not flushed within server.shutdown_flush_timeout; closing anyway (the next start replays the WAL)"
        ),
    }
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
