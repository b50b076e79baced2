//! The write path's state: the write lock over the last assigned sequence number and the
//! producer marks, and the highest sequence number applied to memtables. The steps of a write
//! are in `write.rs`; holding writes back is in `stall.rs`.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use crate::producer::table::ProducerTable;

/// The write path's state: the write lock and the highest applied sequence number.
#[derive(Debug)]
pub(super) struct WritePath {
    state: Mutex<WriteState>,
    /// Highest sequence number whose memtable inserts are complete.
    applied_seq: AtomicU64,
}

/// What the write lock guards.
#[derive(Debug)]
pub(super) struct WriteState {
    /// Highest sequence number assigned.
    last_seq: u64,
    /// Idempotent producers' marks: checked and advanced under this lock, with the WAL append.
    producers: ProducerTable,
}

impl WritePath {
    /// The write path of a database recovered up to `last_seq`.
    pub(super) fn new(last_seq: u64, producers: ProducerTable) -> Self {
        Self { state: Mutex::new(WriteState { last_seq, producers }), applied_seq: AtomicU64::new(last_seq) }
    }

    /// Takes the write lock (the outermost lock of the write path; see the lock order in `db/`).
    pub(super) fn lock(&self) -> MutexGuard<'_, WriteState> {
        self.state.lock()
    }

    /// Highest sequence number whose memtable inserts are complete.
    pub(super) fn applied_seq(&self) -> u64 {
        self.applied_seq.load(Ordering::Acquire)
    }

    /// Records that the inserts of `seq` are complete (under the write lock, in seq order).
    pub(super) fn set_applied(&self, seq: u64) {
        self.applied_seq.store(seq, Ordering::Release);
    }
}

impl WriteState {
    /// Highest sequence number assigned.
    pub(super) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Records that `seq` (above every earlier one) was assigned.
    pub(super) fn assign(&mut self, seq: u64) {
        self.last_seq = seq;
    }

    /// The producer table.
    pub(super) fn producers(&self) -> &ProducerTable {
        &self.producers
    }

    /// The producer table, to change.
    pub(super) fn producers_mut(&mut self) -> &mut ProducerTable {
        &mut self.producers
    }
}
