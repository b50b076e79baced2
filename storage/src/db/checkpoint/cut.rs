//! The cut of a checkpoint: one sequence number `C` such that the checkpoint holds every write up
//! to `C`, none above it, and every idempotent producer's mark as of `C`.
//!
//! # Why a cut, and why this way
//!
//! A producer's mark and its batch's rows are one WAL record, so they are atomic in the live
//! database; a checkpoint carries no WAL, so it must put the two back together from SSTables and
//! the manifest. Copying the manifest's marks is not enough: they are written with every flush as
//! of the moment of that flush, which is after the flushed rows were frozen, so a batch that
//! landed during the checkpoint could have its mark in the copy and its rows still in a memtable
//! (after a restore the producer would resume past rows the copy lacks). Nor did the SSTables
//! form a cut by themselves: a family whose memtable filled up during the checkpoint could be
//! flushed further than another, so a batch writing both could be half in the copy.
//!
//! Three ways were weighed:
//!
//! - copy the WAL tail up to a sequence number, as RocksDB's checkpoint does when it does not
//!   flush (`log_size_for_flush` above the WAL size: it lists the live WAL files with the
//!   SSTables and recovery replays them). Marks and rows stay one record, but the copy must end
//!   on a record boundary of a segment that is being appended to, and segments may be deleted
//!   while they are copied;
//! - keep with each mark the sequence number of the write that set it and, at checkpoint time,
//!   take for each producer the last mark at or below the SSTables' sequence number. That needs
//!   a history of marks per producer, and still no single sequence number the SSTables agree on;
//! - **flush the memtables under one cut**, as RocksDB's default checkpoint does
//!   (`log_size_for_flush = 0`: flush, then link the SSTables, copy no WAL). This is the one
//!   taken: it needs nothing new on disk and reuses the resume's crash-safe flush.
//!
//! Under the flush gate (so no flush but the checkpoint's own runs until the files are linked),
//! [`Db::cut`] freezes every family's active memtable at the last assigned seq `C` and copies
//! the in-memory producer table, in one step under the write lock: that lock assigns seqs,
//! advances marks and inserts rows together, so the copy holds exactly the marks of the writes
//! up to `C`, and the frozen memtables exactly their rows. The checkpoint then flushes the
//! memtables frozen up to `C` (not the ones frozen later by writes that go on meanwhile: they
//! wait in memory and in the WAL) and links the files. Every SSTable then holds only rows up to
//! `C` (earlier flushes were frozen earlier; a merge only combines them) and together they hold
//! all of them, and the checkpoint's manifest records the copied marks as complete up to `C`.
//!
//! A range delete that lands while the checkpoint runs may show in it (its tombstone is in the
//! manifest, and a flush applies it to the rows it writes): a delete is not a producer's batch,
//! and it only removes rows. Writes are never paused; the background flusher waits for the gate
//! while the checkpoint flushes (its work is done meanwhile), so ingest is slowed only if the
//! memtables fill up during that one flush.

use std::collections::BTreeMap;

use super::super::Db;
use crate::producer::ProducerMark;
use crate::schema::FamilyId;

/// The point in the write order a checkpoint holds exactly.
#[derive(Debug)]
pub(super) struct Cut {
    /// Every write at or below this sequence number is in the checkpoint, none above.
    pub(super) seq: u64,
    /// Every producer's mark as of `seq`.
    pub(super) producers: BTreeMap<String, ProducerMark>,
}

impl Db {
    /// Freezes every family's memtable at the last assigned seq and copies the producer marks,
    /// in one step under the write lock. The caller holds the flush gate and then flushes the
    /// memtables frozen up to the cut ([`Db::flush_frozen_up_to`]).
    pub(super) fn cut(&self) -> Cut {
        let w = self.inner.writes.lock();
        let ids: Vec<FamilyId> = self.current().families.keys().copied().collect();
        self.freeze(&ids, w.last_seq());
        Cut { seq: w.last_seq(), producers: w.producers().marks() }
    }
}
