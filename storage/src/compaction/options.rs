//! Compaction settings and the time windows they define.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Compaction settings, in [`Options::compaction`](crate::Options::compaction).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompactionOptions {
    /// Width of a time window (default 1 day, as Cassandra suggests for TWCS with weeks of data).
    pub window: Duration,
    /// A window whose newest row is older than this (by wall clock) and that is not the window
    /// of the newest data is closed (default 1 hour).
    pub closed_after: Duration,
    /// Fewest similar-sized files merged at once in an open window (default 4).
    pub min_merge: usize,
    /// Most files merged at once (default 32).
    pub max_merge: usize,
    /// Files are "similar" when the largest is at most this times the smallest (default 4).
    pub size_ratio: f64,
    /// Largest output file; bigger outputs are split (default 1 GiB).
    pub max_file_bytes: u64,
    /// A closed window's main file is rewritten with the window's late runs only once the runs
    /// together hold at least this share of the main file's bytes (default 0.5).
    ///
    /// Why 0.5: rewriting the main file `M` together with late runs of `r * M` bytes writes
    /// `(1 + r) * M`, so each late byte pays `(1 + r) / r` bytes for that rewrite: 3 at 0.5,
    /// 2 at 1.0, 5 at 0.25, 11 at 0.1 (and the whole window at every late file at 0, which was
    /// the policy before issue #26: 6-7x write amplification with a few per cent late rows).
    /// Below 0.5 that cost climbs steeply; above it the gain is small (3 -> 2 at 1.0) while the
    /// runs, which every read of the window merges, grow as large as the window itself. Late data
    /// under a third of a window (the common case of gateways and buffered devices catching up)
    /// never triggers a rewrite at all; its runs only merge with each other.
    /// `0.0` rewrites the main file at every late file.
    pub late_merge_ratio: f64,
    /// Most late runs a closed window keeps beside its main file (default 8, at least 1); past
    /// it the smallest adjacent runs are merged, so a read of a closed window merges at most this
    /// many files besides the main one.
    pub max_late_runs: usize,
    /// Bytes per second a compaction may read (default unlimited).
    pub rate_limit_bytes_per_sec: Option<u64>,
    /// Run compaction in the background (default true). Manual [`Db::compact`](crate::Db::compact)
    /// works either way.
    pub background: bool,
    /// How often the background worker looks for work when idle (default 1 s).
    pub interval: Duration,
    /// Files in one window past which writes are slowed down (default 24).
    pub slowdown_files: usize,
    /// Files in one window past which writes wait for compaction (default 64).
    pub stop_files: usize,
}

impl Default for CompactionOptions {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(24 * 3600),
            closed_after: Duration::from_secs(3600),
            min_merge: 4,
            max_merge: 32,
            size_ratio: 4.0,
            max_file_bytes: 1 << 30,
            late_merge_ratio: 0.5,
            max_late_runs: 8,
            rate_limit_bytes_per_sec: None,
            background: true,
            interval: Duration::from_secs(1),
            slowdown_files: 24,
            stop_files: 64,
        }
    }
}

impl CompactionOptions {
    /// The window width in nanoseconds (at least 1).
    pub fn window_ns(&self) -> i64 {
        i64::try_from(self.window.as_nanos()).unwrap_or(i64::MAX).max(1)
    }
}
