//! [`Db::metrics`]: one plain snapshot of everything the engine counts, for exporters such as
//! the server's Prometheus endpoint.
//!
//! The counters are relaxed atomics bumped where things happen (the write path, the WAL writer,
//! the flush and compaction workers, the block cache); nothing on the write path takes a lock
//! for them. Taking a snapshot reads them plus the current version (files and memtables per
//! family), which costs about as much as [`Db::stats`] (it is built on it).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Db;
use super::stats::DbStats;
use crate::sst::CacheStats;
use crate::wal::WalMetrics;

/// Everything the engine counts, read at one moment (each value is read atomically; the set is
/// not one transaction, which metrics do not need).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineMetrics {
    /// Per-family state and the counters since open (writes, points, flushes, compactions,
    /// stalls, cache hits and misses).
    pub stats: DbStats,
    /// WAL appends, bytes and `fdatasync` latency.
    pub wal: WalMetrics,
    /// Block-cache occupancy and counters.
    pub cache: CacheStats,
    /// The memory budget of all memtables together (`Options::memtable_budget`).
    pub memtable_budget: u64,
    /// Merges running now.
    pub compactions_running: u64,
    /// Total time writes spent waiting for memory or compaction (stalls).
    pub stall_time: Duration,
    /// Writes refused with `Overloaded` after waiting past the stall timeout.
    pub stall_rejections: u64,
    /// Bytes in the WAL segments still on disk: what a restart would replay at most. Segments
    /// are deleted once every family has flushed past them, so this grows while flushes lag.
    pub wal_unflushed_bytes: u64,
    /// Why writes are refused for a background failure, if they are ([`Db::read_only`]).
    pub read_only: Option<super::health::ReadOnly>,
    /// Times writes were resumed after a WAL failure or a full disk without a reopen
    /// ([`Db::resume`], on demand or by the background retry).
    pub resumes: u64,
}

impl EngineMetrics {
    /// Bytes written by flushes and compactions per byte flushed (1.0 before any compaction,
    /// 0.0 before any flush): the write amplification of the LSM below the WAL.
    pub fn write_amplification(&self) -> f64 {
        let flushed = self.stats.flush_bytes;
        if flushed == 0 {
            return 0.0;
        }
        (flushed + self.stats.compaction_bytes_written) as f64 / flushed as f64
    }
}

impl Db {
    /// Reads every engine counter and gauge (see [`EngineMetrics`]).
    pub fn metrics(&self) -> EngineMetrics {
        let c = &self.inner.counters;
        EngineMetrics {
            stats: self.stats(),
            wal: self.inner.wal.metrics(),
            cache: self.inner.cache.stats(),
            memtable_budget: self.inner.opts.memtable_budget as u64,
            compactions_running: self.inner.compactor.running(),
            stall_time: Duration::from_nanos(c.stall_nanos.load(Ordering::Relaxed)),
            stall_rejections: c.stall_rejections.load(Ordering::Relaxed),
            wal_unflushed_bytes: self.inner.wal.segments().iter().map(|s| s.size).sum(),
            read_only: self.read_only(),
            resumes: c.resumes.load(Ordering::Relaxed),
        }
    }
}
