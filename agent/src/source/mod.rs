//! Sources: each runs on its own thread and hands [`Chunk`]s of rows (or columnar batches) to
//! the batcher through a bounded channel, so a full queue (policy `block`) stops them.
//!
//! A source that can resume (files, generators) puts its position in the chunk's checkpoint; the
//! batcher stores it in the same queue record as the rows, so after a restart
//! [`crate::queue::Queue::checkpoint`] gives exactly the position after the last queued row.

pub mod generator;
pub mod http_lines;
pub mod line_reader;
pub mod lines;
pub mod listen;
pub mod mqtt;
pub mod tail;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use isobar_proto::v1::{Row, SeriesBatch};

use crate::config::SourceConfig;
use crate::metrics::Metrics;
use crate::queue::{Checkpoint, Queue};

/// Rows from one source, with the source's position after them.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Row-form readings.
    pub rows: Vec<Row>,
    /// Columnar readings.
    pub batches: Vec<SeriesBatch>,
    /// Position after these readings, for sources that resume.
    pub checkpoint: Option<Checkpoint>,
    /// Returned to the source once these readings are in the on-disk queue (a source that
    /// acknowledges its sender, such as MQTT's PUBACK, waits for it).
    pub ack: Option<Ack>,
}

/// A token the batcher sends back to a source once a chunk's readings are queued (appended and
/// synced); dropped unsent when the queue append fails, so the sender is never told "stored".
#[derive(Debug)]
pub struct Ack {
    to: std::sync::mpsc::Sender<u64>,
    token: u64,
}

impl Ack {
    /// An ack that sends `token` to `to`.
    pub fn new(to: std::sync::mpsc::Sender<u64>, token: u64) -> Self {
        Self { to, token }
    }

    /// Tells the source (which may be gone: then nobody is waiting).
    pub fn fire(self) {
        let _ = self.to.send(self.token);
    }
}

impl Chunk {
    /// Rows in the chunk (columnar rows counted by timestamp).
    pub fn row_count(&self) -> usize {
        self.rows.len() + self.batches.iter().map(|b| b.ts.len()).sum::<usize>()
    }
}

/// What a source thread is given.
#[derive(Clone)]
pub struct Ctx {
    /// The source's name.
    pub name: String,
    /// Where chunks go.
    pub sink: SyncSender<Chunk>,
    /// Set when the agent stops.
    pub stop: Arc<AtomicBool>,
    /// The queue (for the source's checkpoint).
    pub queue: Arc<Queue>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

impl Ctx {
    /// Whether the agent is stopping.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sends `chunk`; false when the batcher is gone (the agent stops).
    pub fn send(&self, chunk: Chunk) -> bool {
        self.metrics.rows_in.fetch_add(chunk.row_count() as u64, Ordering::Relaxed);
        self.sink.send(chunk).is_ok()
    }

    /// Counts and logs a reading that could not be mapped.
    pub fn bad(&self, what: &dyn std::fmt::Display) {
        self.metrics.bad_readings.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(source = %self.name, error = %what, "skipped a reading");
    }
}

/// Starts the source `config` on its own thread.
pub fn spawn(config: SourceConfig, ctx: Ctx, producer_id: &str) -> std::io::Result<std::thread::JoinHandle<()>> {
    let name = format!("source-{}", ctx.name);
    let producer_id = producer_id.to_string();
    std::thread::Builder::new().name(name).spawn(move || {
        let result = match config {
            SourceConfig::Generator { .. } => generator::run(&config, &ctx).map_err(|e| e.to_string()),
            SourceConfig::Csv(_) | SourceConfig::Jsonl(_) => tail::run(&config, &ctx).map_err(|e| e.to_string()),
            SourceConfig::LineProtocol { .. } => lines::run(&config, &ctx).map_err(|e| e.to_string()),
            SourceConfig::Mqtt { .. } => mqtt::run(&config, &ctx, &producer_id).map_err(|e| e.to_string()),
        };
        if let Err(err) = result {
            tracing::error!(source = %ctx.name, error = %err, "source stopped");
        }
    })
}
