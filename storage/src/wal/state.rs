//! State shared by the [`Wal`](super::Wal) handle and its writer thread: published seqs, the
//! poison, the queue's byte budget and the list of live segments.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::error::{Error, FailedOp};
use super::segment::SegmentList;
use crate::options::SyncPolicy;

/// Bytes of queued records (payload plus 64 bytes of bookkeeping each) after which `append` blocks
/// until the writer catches up. A single record larger than this is still accepted when the
/// queue is empty.
pub const MAX_QUEUED_BYTES: usize = 32 << 20;
/// Bookkeeping bytes charged per queued record, so that many tiny records are bounded too.
pub(super) const QUEUE_OVERHEAD: usize = 64;

/// The first write or sync failure; kept forever and handed to everyone who asks.
#[derive(Clone, Debug)]
pub(super) struct Poison {
    /// What failed.
    pub op: FailedOp,
    /// The file or directory.
    pub path: PathBuf,
    /// The original error.
    pub source: Arc<io::Error>,
}

impl Poison {
    /// The error reported for this poison.
    pub(super) fn to_error(&self) -> Error {
        Error::Failed { op: self.op, segment: self.path.clone(), source: Arc::clone(&self.source) }
    }
}

/// What the writer has published.
#[derive(Debug, Default)]
pub(super) struct Progress {
    /// Highest seq handed to the OS with `write(2)`.
    pub written: u64,
    /// Highest seq made durable with `fdatasync(2)`.
    pub synced: u64,
    /// The first failure, if any.
    pub poison: Option<Poison>,
    /// The writer thread has exited.
    pub stopped: bool,
}

impl Progress {
    /// The highest seq that counts as durable under `policy`.
    pub(super) fn durable(&self, policy: SyncPolicy) -> u64 {
        match policy {
            SyncPolicy::Always => self.synced,
            SyncPolicy::Interval(_) | SyncPolicy::None => self.written,
        }
    }
}

/// Everything the handle and the writer share.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Published progress.
    pub progress: Mutex<Progress>,
    /// Signalled whenever `progress` changes; all waiters wake at once.
    pub progress_changed: Condvar,
    /// Bytes queued for the writer and not yet written.
    queued: Mutex<usize>,
    /// Signalled when queued bytes are released.
    queue_freed: Condvar,
    /// Set when the writer has stopped or is poisoned: appenders stop waiting for space.
    dead: AtomicBool,
    /// The live segments.
    pub segments: Mutex<SegmentList>,
    /// Appends, bytes and syncs, for metrics.
    pub(crate) metrics: super::metrics::WalCounters,
}

impl Shared {
    /// Waits until `cost` more bytes fit in the queue and reserves them. Returns `false` if the
    /// writer is dead (the caller then reports the poison or `Closed`).
    pub(super) fn reserve(&self, cost: usize) -> bool {
        let mut queued = self.queued.lock();
        while *queued > 0 && queued.saturating_add(cost) > MAX_QUEUED_BYTES {
            if self.dead.load(Ordering::Acquire) {
                return false;
            }
            self.queue_freed.wait_for(&mut queued, Duration::from_millis(50));
        }
        *queued += cost;
        true
    }

    /// Returns `cost` bytes to the queue budget.
    pub(super) fn release(&self, cost: usize) {
        if cost == 0 {
            return;
        }
        let mut queued = self.queued.lock();
        *queued = queued.saturating_sub(cost);
        drop(queued);
        self.queue_freed.notify_all();
    }

    /// Publishes the writer's seqs and wakes every waiter.
    pub(super) fn publish(&self, written: u64, synced: u64) {
        let mut p = self.progress.lock();
        p.written = p.written.max(written);
        p.synced = p.synced.max(synced);
        drop(p);
        self.progress_changed.notify_all();
    }

    /// Records the first failure (later ones are ignored) and wakes everyone.
    pub(super) fn poison(&self, poison: Poison) {
        let mut p = self.progress.lock();
        if p.poison.is_none() {
            p.poison = Some(poison);
        }
        drop(p);
        self.mark_dead();
        self.progress_changed.notify_all();
    }

    /// Marks the writer as stopped and wakes everyone.
    pub(super) fn stop(&self) {
        self.progress.lock().stopped = true;
        self.mark_dead();
        self.progress_changed.notify_all();
    }

    fn mark_dead(&self) {
        self.dead.store(true, Ordering::Release);
        let _guard = self.queued.lock();
        self.queue_freed.notify_all();
    }

    /// Clears the poison and the stopped flag for a new writer that starts at `seq` (durable:
    /// the caller persisted everything up to it elsewhere). Only after the old writer exited.
    pub(super) fn revive(&self, seq: u64) {
        {
            let mut p = self.progress.lock();
            *p = Progress { written: seq, synced: seq, poison: None, stopped: false };
        }
        *self.queued.lock() = 0;
        self.dead.store(false, Ordering::Release);
        self.progress_changed.notify_all();
    }

    /// True while a failure poisons the log.
    pub(super) fn is_poisoned(&self) -> bool {
        self.progress.lock().poison.is_some()
    }

    /// The error a caller gets once the writer is dead: the poison if any, else `Closed`.
    pub(super) fn dead_error(&self) -> Error {
        self.progress.lock().poison.as_ref().map_or(Error::Closed, Poison::to_error)
    }

    /// True once the writer has stopped or failed.
    pub(super) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_full_queue_blocks_until_the_writer_releases_bytes() {
        let shared = Arc::new(Shared::default());
        assert!(shared.reserve(MAX_QUEUED_BYTES - 10));
        let (done_tx, done_rx) = mpsc::channel();
        let blocked = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let ok = shared.reserve(100);
                let _ = done_tx.send(ok);
            })
        };
        assert!(done_rx.recv_timeout(Duration::from_millis(200)).is_err(), "reserve did not block");
        shared.release(MAX_QUEUED_BYTES - 10);
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(5)), Ok(true));
        blocked.join().expect("thread");
        // One oversized record still fits into an empty queue.
        shared.release(100);
        assert!(shared.reserve(MAX_QUEUED_BYTES * 2));
    }

    #[test]
    fn a_dead_writer_unblocks_waiting_appenders() {
        let shared = Arc::new(Shared::default());
        assert!(shared.reserve(MAX_QUEUED_BYTES));
        let waiter = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || shared.reserve(1))
        };
        std::thread::sleep(Duration::from_millis(20));
        shared.stop();
        assert!(!waiter.join().expect("thread"), "reserve must fail once the writer is dead");
        assert!(matches!(shared.dead_error(), Error::Closed));
    }
}
