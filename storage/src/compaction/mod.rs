//! Compaction: keeps each column family's SSTables few, merged and free of dead data.
//!
//! The default strategy is **time-window compaction** (Cassandra's TWCS, GreptimeDB's TWCS):
//! every SSTable belongs to one time window (flushes and compactions split their output at window
//! boundaries). Inside the window that takes new data, files of similar size are merged
//! (size-tiered), so write amplification grows with the logarithm of the data, not linearly. A
//! window that stopped receiving data is merged to one file and left alone afterwards; late rows
//! that land in it later produce a small file there, which is merged into that window only.
//! Files entirely past the TTL are dropped without being read.
//!
//! Parts (a pure policy and a separate executor, as fjall-rs/lsm-tree and GreptimeDB split them):
//! - [`policy`]: looks at a family's file list and returns a [`policy::Task`]; no I/O, unit-tested.
//! - `plan`: reads a version for the policy (files per family, dead tombstones, the fullest
//!   window); no I/O.
//! - `executor`: a function from input files, tombstones, TTL and an output target to new files
//!   and the manifest edit that swaps them (writing through `sst`'s windowed writer, shared
//!   with flush). It installs nothing: `db/` applies the edit (see `db/compactor.rs` for the
//!   background worker, manual `Db::compact` and tombstone purge).
//!
//! Correctness rule: a merge replaces row-level sequence numbers by the newest of the merged
//! rows, so it may only merge files that are contiguous in sequence order among the files that
//! can hold the same rows (the files of one window). The policy only picks such runs.

mod executor;
mod plan;
pub(crate) mod policy;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use executor::MergeOutcome;
pub(crate) use executor::{MergeInput, Merged, merge};
pub(crate) use plan::{dead_tombstones, family_backlog, family_files, has_unapplied_tombstones, max_window_files};
pub(crate) use policy::Task;

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

/// Start of the window that holds `ts`.
pub(crate) fn window_start(ts: i64, window_ns: i64) -> i64 {
    ts.div_euclid(window_ns).saturating_mul(window_ns)
}

/// What a manual compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactionReport {
    /// Families looked at.
    pub families: usize,
    /// Merges run.
    pub merges: usize,
    /// Files deleted because every row in them was past the TTL.
    pub expired_files: usize,
    /// Files read by merges.
    pub files_in: usize,
    /// Files written by merges.
    pub files_out: usize,
    /// Bytes read by merges.
    pub bytes_read: u64,
    /// Bytes written by merges.
    pub bytes_written: u64,
    /// Tombstones dropped because no data they cover remains.
    pub tombstones_dropped: usize,
}

impl CompactionReport {
    /// Counts one merge.
    pub(crate) fn add(&mut self, m: &MergeOutcome) {
        self.merges += 1;
        self.files_in += m.inputs;
        self.files_out += m.outputs;
        self.bytes_read += m.bytes_read;
        self.bytes_written += m.bytes_written;
    }
}
