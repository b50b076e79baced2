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
mod options;
mod plan;
pub(crate) mod policy;

pub(crate) use executor::MergeOutcome;
pub(crate) use executor::{MergeInput, Merged, merge};
pub use options::CompactionOptions;
pub(crate) use plan::{
    dead_tombstones, family_backlog, family_files, has_unapplied_tombstones, mark_late_runs, max_window_files,
};
pub(crate) use policy::Task;

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
