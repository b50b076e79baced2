//! The engine's counters: relaxed atomics bumped where things happen, read by [`Db::stats`] and
//! [`Db::metrics`](crate::Db::metrics).
//!
//! [`Db::stats`]: crate::Db::stats

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters kept by the engine (exported as metrics by the server).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) writes: AtomicU64,
    pub(super) rows: AtomicU64,
    pub(super) points: AtomicU64,
    pub(super) wal_bytes: AtomicU64,
    pub(super) flushes: AtomicU64,
    pub(super) flush_bytes: AtomicU64,
    /// SSTables written by flushes (one flush of a family writes one file per time window).
    pub(super) flush_files: AtomicU64,
    pub(super) stalls: AtomicU64,
    pub(super) stall_nanos: AtomicU64,
    pub(super) longest_stall_nanos: AtomicU64,
    pub(super) slowed_writes: AtomicU64,
    pub(super) compactions: AtomicU64,
    pub(super) compaction_bytes_read: AtomicU64,
    pub(super) compaction_bytes_written: AtomicU64,
    /// SSTables dropped whole because every row was past the TTL (nothing read, nothing written).
    pub(super) expired_files_dropped: AtomicU64,
    /// Bytes of those SSTables.
    pub(super) expired_bytes_dropped: AtomicU64,
    /// Writes refused with `Overloaded` after waiting past the stall timeout.
    pub(super) stall_rejections: AtomicU64,
    /// Producer writes acknowledged as duplicates without being applied again.
    pub(super) producer_duplicates: AtomicU64,
    /// Times writes were resumed after a WAL failure without a reopen.
    pub(super) resumes: AtomicU64,
}

impl Counters {
    pub(super) fn record_write(&self, rows: usize, points: usize, bytes: usize, _took: Duration) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
        self.points.fetch_add(points as u64, Ordering::Relaxed);
        self.wal_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn record_stall(&self, took: Duration) {
        let n = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.stall_nanos.fetch_add(n, Ordering::Relaxed);
        self.longest_stall_nanos.fetch_max(n, Ordering::Relaxed);
    }
}
