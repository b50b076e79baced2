//! Immutable views of the database, swapped atomically.
//!
//! A [`SuperVersion`] is everything a reader needs: the catalog, and per column family the active
//! memtable, the frozen memtables waiting for flush and the SSTables. Readers clone the `Arc` of
//! the current one and read without further locks; every structural change (memtable switch,
//! flush, compaction, schema change) builds a new `SuperVersion` under the database's state lock
//! and swaps it in. A file is deleted only when the last version that lists it is dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::manifest::{FileMeta, Tombstone};
use crate::memtable::Memtable;
use crate::schema::{FamilyId, TableDef, TableId};
use crate::sst::SstReader;

/// An SSTable that belongs to a version. Dropping the last reference to a file that compaction
/// or a table drop marked obsolete deletes it from disk.
#[derive(Debug)]
pub struct SstFile {
    /// What the manifest knows of the file.
    pub meta: FileMeta,
    /// The open reader.
    pub reader: SstReader,
    /// Where the file lives.
    pub path: PathBuf,
    obsolete: AtomicBool,
    bad: parking_lot::Mutex<Option<String>>,
}

impl SstFile {
    /// Wraps an open reader.
    pub fn new(meta: FileMeta, reader: SstReader, path: PathBuf) -> Self {
        Self { meta, reader, path, obsolete: AtomicBool::new(false), bad: parking_lot::Mutex::new(None) }
    }

    /// Marks the file bad after a checksum failure: reads of its other blocks go on, compaction
    /// leaves it alone (so the damage is not copied or hidden), and stats report it.
    pub fn mark_bad(&self, reason: String) {
        let mut bad = self.bad.lock();
        if bad.is_none() {
            tracing::error!(file = %self.path.display(), %reason, "SSTable marked bad; run `isobar admin verify` and restore from a checkpoint");
            *bad = Some(reason);
        }
    }

    /// Why the file was marked bad, if it was.
    pub fn bad_reason(&self) -> Option<String> {
        self.bad.lock().clone()
    }

    /// Marks the file for deletion once no version references it.
    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::Release);
    }
}

impl Drop for SstFile {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire) {
            match self.reader.fs().remove_file(&self.path) {
                Ok(()) => tracing::debug!(file = %self.path.display(), "deleted obsolete SSTable"),
                Err(e) => {
                    tracing::warn!(file = %self.path.display(), error = %e, "could not delete obsolete SSTable; it is removed at next open")
                }
            }
        }
    }
}

/// A frozen memtable and the last sequence number assigned when it was frozen: once it is
/// flushed, every write of its family up to that number is in SSTables.
#[derive(Debug, Clone)]
pub(crate) struct Frozen {
    /// The memtable, read-only from now on.
    pub mem: Arc<Memtable>,
    /// Last sequence number assigned when it was frozen.
    pub switch_seq: u64,
}

/// The state of one column family in a version.
#[derive(Debug, Clone)]
pub(crate) struct FamilyVersion {
    /// Table the family belongs to.
    pub table: TableId,
    /// The memtable taking writes.
    pub active: Arc<Memtable>,
    /// Frozen memtables, oldest first.
    pub frozen: Vec<Frozen>,
    /// SSTables, in the order they were added.
    pub files: Vec<Arc<SstFile>>,
}

impl FamilyVersion {
    /// An empty family.
    pub(crate) fn new(table: TableId, family: FamilyId) -> Self {
        Self { table, active: Arc::new(Memtable::new(family)), frozen: Vec::new(), files: Vec::new() }
    }

    /// Bytes held by the active and frozen memtables.
    pub(crate) fn memtable_bytes(&self) -> usize {
        self.active.approximate_bytes() + self.frozen.iter().map(|f| f.mem.approximate_bytes()).sum::<usize>()
    }

    /// The oldest sequence number that is only in memory (not yet in an SSTable), if any.
    pub(crate) fn oldest_unflushed_seq(&self) -> Option<u64> {
        self.frozen.iter().filter_map(|f| f.mem.seq_bounds()).chain(self.active.seq_bounds()).map(|(lo, _)| lo).min()
    }
}

/// A consistent view of the whole database.
#[derive(Debug, Clone, Default)]
pub(crate) struct SuperVersion {
    /// Tables by name.
    pub tables: Arc<BTreeMap<String, TableDef>>,
    /// Families by id.
    pub families: HashMap<FamilyId, FamilyVersion>,
    /// Range tombstones in force.
    pub tombstones: Arc<Vec<Tombstone>>,
    /// Compaction window widths of families that do not use the database default.
    pub windows: Arc<BTreeMap<FamilyId, i64>>,
    /// `closed_after` times of families that do not use the database default.
    pub closed_after: Arc<BTreeMap<FamilyId, i64>>,
}

impl SuperVersion {
    /// The table named `name`.
    pub(crate) fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.get(name)
    }

    /// The table with id `id`.
    pub(crate) fn table_by_id(&self, id: TableId) -> Option<&TableDef> {
        self.tables.values().find(|t| t.id == id)
    }

    /// Memory held by all memtables.
    pub(crate) fn memtable_bytes(&self) -> usize {
        self.families.values().map(FamilyVersion::memtable_bytes).sum()
    }
}
