//! The batcher: merges source chunks into records of at most `max_rows` rows / `max_bytes`
//! bytes, closing a record at the latest `max_delay_ms` after its first reading, and appends each
//! to the queue with the newest checkpoint of every source it carries. A chunk is never split,
//! so a record may exceed the limits by one chunk. Appending blocks under policy `block`, which
//! stops draining the bounded source channel and so stops the sources.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use isobar_proto::v1::WriteRequest;
use prost::Message;

use crate::config::BatchConfig;
use crate::metrics::Metrics;
use crate::queue::{Checkpoint, Queue, QueueError};
use crate::source::Chunk;

#[derive(Default)]
struct Pending {
    request: WriteRequest,
    rows: usize,
    bytes: usize,
    checkpoints: BTreeMap<String, Checkpoint>,
    since: Option<Instant>,
}

/// Runs until every source has hung up (the channel closes), then queues what is pending.
pub fn run(
    rx: Receiver<Chunk>,
    queue: Arc<Queue>,
    config: BatchConfig,
    metrics: Arc<Metrics>,
) -> Result<(), QueueError> {
    let delay = Duration::from_millis(config.max_delay_ms);
    let mut pending = Pending::default();
    loop {
        let wait = pending.since.map_or(Duration::from_secs(3600), |s| delay.saturating_sub(s.elapsed()));
        match rx.recv_timeout(wait) {
            Ok(chunk) => {
                pending.since.get_or_insert_with(Instant::now);
                pending.rows += chunk.row_count();
                pending.bytes += chunk.rows.iter().map(|r| r.encoded_len() + 2).sum::<usize>()
                    + chunk.batches.iter().map(|b| b.encoded_len() + 4).sum::<usize>();
                pending.request.rows.extend(chunk.rows);
                pending.request.batches.extend(chunk.batches);
                if let Some(c) = chunk.checkpoint {
                    pending.checkpoints.insert(c.source.clone(), c);
                }
                if pending.rows >= config.max_rows || pending.bytes >= config.max_bytes {
                    flush(&mut pending, &queue, &metrics)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => flush(&mut pending, &queue, &metrics)?,
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
    metrics.queued.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(seq, rows = p.rows, "queued a record");
    Ok(())
}
