//! The edits a manifest records, and the records they describe (SSTable files, tombstones).
//!
//! Edits are serialised as JSON (serde's externally tagged form, variant names in snake_case), so
//! a manifest can be read with `jq` after stripping the 8-byte record headers; for example
//! `{"remove_file":{"family":3,"id":17}}`, `{"last_seq":9120}` or
//! `{"producers":{"as_of_seq":9120,"set":[{"id":"gw-1","applied_seq":77,"active_ms":1763700000000}],"forget":["gw-0"]}}`.

use serde::{Deserialize, Serialize};

use super::access::AccessCatalog;
use crate::producer::ProducerMark;
use crate::schema::{FamilyId, TableDef, TableId};
use crate::selector::{SeriesSelector, TimeRange};

/// Id of an SSTable file, unique in a database and never reused.
pub type FileId = u64;

/// An SSTable file of a column family, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    /// File id; the file name derives from it.
    pub id: FileId,
    /// The family whose data the file holds.
    pub family: FamilyId,
    /// Size in bytes.
    pub size: u64,
    /// Number of rows.
    pub rows: u64,
    /// Number of distinct series.
    pub series: u64,
    /// Smallest timestamp of any row.
    pub min_ts: i64,
    /// Largest timestamp of any row.
    pub max_ts: i64,
    /// Smallest sequence number of any cell.
    pub min_seq: u64,
    /// Largest sequence number of any cell.
    pub max_seq: u64,
    /// Compaction level or tier (0 for flushed files).
    #[serde(default)]
    pub level: u32,
    /// Every tombstone with an id below this was applied when the file was written (its rows
    /// are already gone from the file); compaction drops a tombstone once every file of its
    /// families has applied it.
    #[serde(default)]
    pub tombstone_mark: u64,
}

/// A range delete: every cell of `table` (only `family` when set) whose series matches
/// `selector`, whose timestamp lies in `range` and whose sequence number is below `seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Tombstone id, unique in a database and never reused.
    pub id: u64,
    /// The table it deletes from.
    pub table: TableId,
    /// The one family it deletes from, or every family of the table.
    pub family: Option<FamilyId>,
    /// The series it deletes.
    pub selector: SeriesSelector,
    /// The time range it deletes.
    pub range: TimeRange,
    /// Cells with a sequence number below this are deleted; later writes survive.
    pub seq: u64,
}

impl Tombstone {
    /// True when this tombstone deletes the row `(series, ts)` written with `seq` (the caller
    /// has already matched table and family).
    pub fn covers(&self, series: &str, ts: i64, seq: u64) -> bool {
        seq < self.seq && self.range.contains(ts) && self.selector.matches(series)
    }
}

/// One change to the manifest state. A group of edits is written as one record and applied
/// atomically.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// First (and only) edit of the first record of every manifest file; never applied to a
    /// state.
    Header {
        /// Always [`super::MAGIC`].
        magic: String,
        /// Format version, [`super::FORMAT_VERSION`].
        version: u32,
        /// How many records after the header hold the snapshot the file starts with.
        #[serde(default)]
        snapshot_records: u64,
    },
    /// A new table with its families and columns (ids chosen by the caller, unused so far).
    CreateTable(TableDef),
    /// A new definition of an existing table, same id: rename, new families or columns, changed
    /// retention. Families left out are dropped with their files and flushed sequence numbers.
    ReplaceTable(TableDef),
    /// Drops a table with its families' files, flushed sequence numbers and tombstones.
    DropTable(TableId),
    /// A new SSTable file in a family.
    AddFile(FileMeta),
    /// An SSTable file that no longer belongs to its family (compacted away or expired).
    RemoveFile {
        /// The family.
        family: FamilyId,
        /// The file.
        id: FileId,
    },
    /// Every write of `family` with a sequence number up to `seq` is in its SSTables; WAL replay
    /// skips them for that family.
    FlushedSeq {
        /// The family.
        family: FamilyId,
        /// Highest sequence number flushed.
        seq: u64,
    },
    /// A new range delete.
    AddTombstone(Tombstone),
    /// A range delete that no longer has anything to delete (compaction applied it).
    RemoveTombstone(u64),
    /// The highest sequence number ever assigned (written on flush and close).
    LastSeq(u64),
    /// Raises the id counters to at least these values (counters never go down). Snapshots end
    /// with it so that ids of dropped objects stay used.
    NextIds {
        /// Lowest table id not yet used.
        table: TableId,
        /// Lowest family id not yet used.
        family: FamilyId,
        /// Lowest file id not yet used.
        file: FileId,
        /// Lowest tombstone id not yet used.
        tombstone: u64,
    },
    /// Changes of the idempotent-producer table (see the `producer` module): `forget` removes
    /// marks, then `set` writes marks; afterwards the table is complete for every WAL record up
    /// to `as_of_seq` (replay takes producer stamps only from records above it). Written with
    /// every flush, and in chunks into every snapshot.
    Producers {
        /// The engine sequence number the table is complete up to (never lowered).
        as_of_seq: u64,
        /// Marks that changed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        set: Vec<ProducerMark>,
        /// Producers forgotten (expired by age or count).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        forget: Vec<String>,
    },
    /// Sets (or clears with `None`) a family's compaction window width in nanoseconds.
    SetCompactionWindow {
        /// The family.
        family: FamilyId,
        /// Window width; `None` means the database default.
        window_ns: Option<i64>,
    },
    /// Sets (or clears with `None`) how long after its newest row a window of a family is
    /// closed, in nanoseconds. Added after format version 1 was fixed: manifests without it
    /// read as before (every family on the database default).
    SetClosedAfter {
        /// The family.
        family: FamilyId,
        /// Time after which a window is closed; `None` means the database default.
        closed_after_ns: Option<i64>,
    },
    /// Replaces the access catalog (users, groups, tokens, grants; opaque to the engine, see
    /// the `access` module). Its generation must be above the one in force. Added
    /// after format version 1 was fixed: manifests without it read as before (no catalog).
    SetAccessCatalog(AccessCatalog),
}

impl Edit {
    /// The edit's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Edit::Header { .. } => "Header",
            Edit::CreateTable(_) => "CreateTable",
            Edit::ReplaceTable(_) => "ReplaceTable",
            Edit::DropTable(_) => "DropTable",
            Edit::AddFile(_) => "AddFile",
            Edit::RemoveFile { .. } => "RemoveFile",
            Edit::FlushedSeq { .. } => "FlushedSeq",
            Edit::AddTombstone(_) => "AddTombstone",
            Edit::RemoveTombstone(_) => "RemoveTombstone",
            Edit::LastSeq(_) => "LastSeq",
            Edit::NextIds { .. } => "NextIds",
            Edit::SetCompactionWindow { .. } => "SetCompactionWindow",
            Edit::SetClosedAfter { .. } => "SetClosedAfter",
            Edit::Producers { .. } => "Producers",
            Edit::SetAccessCatalog(_) => "SetAccessCatalog",
        }
    }
}
