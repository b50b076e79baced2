//! `isobar agent run`: wires the queue, the sources, the batcher, the forwarder and the status
//! file together, and keeps them running until the process is stopped.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{AgentConfig, ConfigError};
use crate::forward::Forwarder;
use crate::metrics::Metrics;
use crate::queue::{Queue, QueueError};
use crate::source::{self, Ctx};

/// File name of the producer id inside the queue directory.
pub const PRODUCER_ID_FILE: &str = "producer_id";

/// Why the agent cannot run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The queue cannot be opened.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A generator source names an unknown workload.
    #[error(transparent)]
    Generator(#[from] source::generator::GeneratorError),
    /// A thread or the runtime cannot start.
    #[error("cannot start {what}: {source}")]
    Start {
        /// What.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The producer id: the configured one, else the one kept in the queue directory, else a new one
/// derived from the host name, the directory and the time, written there for next time.
pub fn producer_id(config: &AgentConfig, dir: &Path) -> Result<String, QueueError> {
    if !config.producer.id.is_empty() {
        return Ok(config.producer.id.clone());
    }
    let path = dir.join(PRODUCER_ID_FILE);
    if let Ok(id) = std::fs::read_to_string(&path)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_string());
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "host".into());
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let dir_hash = crc32c::crc32c(canonical.to_string_lossy().as_bytes());
    let id = format!("{}-{dir_hash:08x}-{:x}", host.trim(), crate::map::now_ns());
    let tmp = dir.join("producer_id.tmp");
    std::fs::write(&tmp, &id).map_err(|source| QueueError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, &path).map_err(|source| QueueError::Io { path: path.clone(), source })?;
    Ok(id)
}

/// Runs the agent of `config` until the process ends. SIGINT/SIGTERM stop it: the sources are
/// told to stop, the batcher queues its pending record (see [`crate::batcher`]), and the status
/// is written once more.
pub fn run(config: AgentConfig) -> Result<(), RunError> {
    let token = config.token()?;
    let tls = config.tls()?;
    let queue = Arc::new(Queue::open(&config.queue.dir, config.queue.options())?);
    let producer_id = producer_id(&config, &config.queue.dir)?;
    let metrics = Arc::new(Metrics::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tables = Vec::new();
    for s in &config.source {
        if let (Some((spec, _)), crate::config::SourceConfig::Generator { create_table: true, .. }) =
            (source::generator::spec_of(s)?, s)
        {
            tables.push(isobar_ingest::table::table_spec_to_proto(spec.table_spec()));
        }
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    for s in &config.source {
        let ctx = Ctx {
            name: s.name(),
            sink: tx.clone(),
            stop: Arc::clone(&stop),
            queue: Arc::clone(&queue),
            metrics: Arc::clone(&metrics),
        };
        source::spawn(s.clone(), ctx, &producer_id).map_err(|source| RunError::Start { what: "a source", source })?;
    }
    drop(tx);
    let (q, batch, m, s) = (Arc::clone(&queue), config.batch.clone(), Arc::clone(&metrics), Arc::clone(&stop));
    let batcher = std::thread::Builder::new()
        .name("batcher".into())
        .spawn(move || {
            if let Err(e) = crate::batcher::run(rx, q, batch, m, s) {
                tracing::error!(error = %e, "the batcher stopped: sources can no longer queue");
            }
        })
        .map_err(|source| RunError::Start { what: "the batcher", source })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| RunError::Start { what: "the async runtime", source })?;
    let connected = Arc::new(AtomicBool::new(false));
    let forwarder = Forwarder {
        queue: Arc::clone(&queue),
        config: config.clone(),
        token,
        tls,
        producer_id: producer_id.clone(),
        tables,
        metrics: Arc::clone(&metrics),
        connected: Arc::clone(&connected),
    };
    tracing::info!(producer = %producer_id, queue = %config.queue.dir.display(), sources = config.source.len(), "agent started");
    let status_queue = Arc::clone(&queue);
    runtime.block_on(async move {
        let queue = status_queue;
        tokio::spawn(forwarder.run());
        let write_status = |running: bool| {
            let mut status = metrics.status(
                &producer_id,
                running && connected.load(Ordering::Relaxed),
                queue.stats(),
                crate::map::now_ns() as u64 / 1_000_000,
            );
            status.running = running;
            if let Err(e) = status.store(queue.dir()) {
                tracing::warn!(error = %e, "cannot write status.json");
            }
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => write_status(true),
                _ = shutdown_signal() => break,
            }
        }
        stop.store(true, Ordering::Relaxed);
        // The batcher queues its pending record before the agent exits (at most STOP_GRACE).
        if !matches!(tokio::task::spawn_blocking(move || batcher.join()).await, Ok(Ok(()))) {
            tracing::error!("the batcher panicked while stopping");
        }
        write_status(false);
        tracing::info!("agent stopped");
    });
    queue.close();
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
