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
