//! The gRPC server: opens the database, serves `Ingest`, `Query`, `Admin`, `grpc.health.v1` and
//! server reflection on one port, and shuts down gracefully.
//!
//! ```text
//! start(config) ─► Db::open (blocking pool) ─► bind ─► serve ────────────► stop()/signal
//!                                                        │ stop accepting, finish running calls
//!                                                        ▼ (at most server.shutdown_timeout)
//!                                                      Db::close (syncs the WAL) ─► Ok
//! ```
//!
//! Health: every service reports `NOT_SERVING` until the database is open and `SERVING` after;
//! on shutdown they go back to `NOT_SERVING` first, so load balancers drain the instance.
//! [`start`] is what `isobar serve` runs and what the end-to-end tests start in-process.

mod admin;
mod export;
mod query;
mod scan;
mod status;

use std::net::SocketAddr;
use std::time::Duration;

use isobar_ingest::{IngestLimits, IngestService};
use isobar_proto::v1::admin_server::AdminServer;
use isobar_proto::v1::ingest_server::IngestServer;
use isobar_proto::v1::query_server::QueryServer;
use isobar_storage::Db;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;

use crate::config::Config;
pub use admin::AdminService;
pub use query::QueryService;

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
    /// A blocking task of the server died.
    #[error("server task failed: {0}")]
    Task(String),
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    db: Db,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl Running {
    /// The address the server listens on (with the port the OS chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `http://` URL of the server, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

/// Opens the database of `config` and serves it on `config.server.listen`.
pub async fn start(config: &Config) -> Result<Running, ServerError> {
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
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(config.clone(), db.clone(), listener, stopped));
    Ok(Running { addr: local, db, stop: Some(stop), task })
}

/// Serves until `stopped` fires (or its sender is dropped), then closes the database.
async fn serve(
    config: Config,
    db: Db,
    listener: TcpListener,
    stopped: oneshot::Receiver<()>,
) -> Result<(), ServerError> {
    let max = config.server.max_message_bytes.as_usize();
    let limits = IngestLimits {
        max_rows_per_request: config.server.max_rows_per_request,
        max_inflight_bytes: config.server.max_inflight_write_bytes.0,
    };
    // Agents (`isobar agent`, compression = "zstd") may send zstd-compressed writes.
    let ingest = IngestServer::new(IngestService::new(db.clone(), limits))
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let query =
        QueryServer::new(QueryService::new(db.clone())).max_decoding_message_size(max).max_encoding_message_size(max);
    let admin = AdminServer::new(AdminService::new(db.clone(), config.server.export_root()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(isobar_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Task(format!("reflection: {e}")))?;
    set_health(&health, tonic_health::ServingStatus::Serving).await;

    let timeout = config.server.shutdown_timeout.0;
    let (drained_tx, drained_rx) = oneshot::channel::<()>();
    let health_on_stop = health.clone();
    let signal = async move {
        let _ = stopped.await;
        set_health(&health_on_stop, tonic_health::ServingStatus::NotServing).await;
        tracing::info!("shutting down: no new connections, waiting for running calls");
        let _ = drained_tx.send(());
    };
    let router = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(ingest)
        .add_service(query)
        .add_service(admin);
    let served = router.serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), signal);
    let result = tokio::select! {
        r = served => r.map_err(ServerError::from),
        () = deadline_after(drained_rx, timeout) => {
            tracing::warn!(?timeout, "running calls did not finish within server.shutdown_timeout; closing anyway");
            Ok(())
        }
    };
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
    for name in ["", "isobar.v1.Ingest", "isobar.v1.Query", "isobar.v1.Admin"] {
        reporter.set_service_status(name, status).await;
    }
}
