//! The batcher: merges source chunks into records of at most `max_rows` rows / `max_bytes`
//! bytes, closing a record at the latest `max_delay_ms` after its first reading, and appends each
//! to the queue with the newest checkpoint of every source it carries. A chunk is never split,
//! so a record may exceed the limits by one chunk. Appending blocks under policy `block`, which
//! stops draining the bounded source channel and so stops the sources.
//!
//! A chunk that carries an [`Ack`] (an MQTT QoS 1 message) is queued at once, together with
//! whatever else is waiting in the channel (group commit), and its ack is sent back only after
//! the append returned, so a sender is acknowledged only for readings on disk.
//!
//! On a graceful stop (the agent's `stop` flag) the batcher waits up to [`STOP_GRACE`] for the
//! sources to hang up, then takes what is still in the channel and queues the pending record
//! before it returns: a reading a source has handed over is on disk when the agent exits, as
//! a database drains its memtable on shutdown rather than dropping it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use isobar_proto::v1::WriteRequest;
use prost::Message;

use crate::config::BatchConfig;
use crate::metrics::Metrics;
use crate::queue::{Checkpoint, Queue, QueueError};
use crate::source::{Ack, Chunk};

#[derive(Default)]
struct Pending {
    request: WriteRequest,
    rows: usize,
    bytes: usize,
    checkpoints: BTreeMap<String, Checkpoint>,
    since: Option<Instant>,
    /// Sources waiting to hear that their readings are queued.
    acks: Vec<Ack>,
}

/// How long a stopping batcher waits for the sources to hang up before it queues what it has.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// How often an idle batcher looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

impl Pending {
    fn add(&mut self, chunk: Chunk) {
        self.since.get_or_insert_with(Instant::now);
        self.rows += chunk.row_count();
        self.bytes += chunk.rows.iter().map(|r| r.encoded_len() + 2).sum::<usize>()
            + chunk.batches.iter().map(|b| b.encoded_len() + 4).sum::<usize>();
        self.request.rows.extend(chunk.rows);
        self.request.batches.extend(chunk.batches);
        if let Some(c) = chunk.checkpoint {
            self.checkpoints.insert(c.source.clone(), c);
        }
        self.acks.extend(chunk.ack);
    }
}

/// Runs until every source has hung up (the channel closes) or, once `stop` is set, until the
/// sources hang up or [`STOP_GRACE`] passes; then queues what is pending.
pub fn run(
    rx: Receiver<Chunk>,
    queue: Arc<Queue>,
    config: BatchConfig,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<(), QueueError> {
    let delay = Duration::from_millis(config.max_delay_ms);
    let mut pending = Pending::default();
    let mut stopping_since: Option<Instant> = None;
    loop {
        if stop.load(Ordering::Relaxed) && stopping_since.get_or_insert_with(Instant::now).elapsed() >= STOP_GRACE {
            while let Ok(chunk) = rx.try_recv() {
                pending.add(chunk);
            }
            return flush(&mut pending, &queue, &metrics);
        }
        let due = pending.since.map(|s| delay.saturating_sub(s.elapsed()));
        match rx.recv_timeout(due.unwrap_or(POLL).min(POLL)) {
            Ok(chunk) => {
                pending.add(chunk);
                if !pending.acks.is_empty() {
                    // A sender waits for its acknowledgement: queue now, with whatever else has
                    // arrived meanwhile (group commit), rather than after max_delay_ms.
                    while pending.rows < config.max_rows && pending.bytes < config.max_bytes {
                        let Ok(more) = rx.try_recv() else { break };
                        pending.add(more);
                    }
                    flush(&mut pending, &queue, &metrics)?;
                } else if pending.rows >= config.max_rows || pending.bytes >= config.max_bytes {
                    flush(&mut pending, &queue, &metrics)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if pending.since.is_some_and(|s| s.elapsed() >= delay) {
                    flush(&mut pending, &queue, &metrics)?;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return flush(&mut pending, &queue, &metrics),
        }
    }
}

fn flush(pending: &mut Pending, queue: &Queue, metrics: &Metrics) -> Result<(), QueueError> {
    let p = std::mem::take(pending);
    if p.rows == 0 && p.checkpoints.is_empty() {
        return Ok(());
    }
    let seq = queue.append(p.request.encode_to_vec(), p.checkpoints.into_values().collect())?;
    p.acks.into_iter().for_each(Ack::fire);
    metrics.queued.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(seq, rows = p.rows, "queued a record");
    Ok(())
}
