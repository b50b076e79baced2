//! Errors of the manifest: I/O, corruption found while replaying, and edits the state refuses.

use std::fmt;
use std::path::PathBuf;

use crate::error::InvalidInput;
use crate::schema::{ColumnId, ColumnType, FamilyId, TableId};

use super::edit::FileId;

/// Every error the manifest returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    #[error("manifest I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file holds bytes that are not a valid record where a valid record must be.
    #[error("manifest {file} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        /// The manifest file.
        file: PathBuf,
        /// Offset of the start of the bad record.
        offset: u64,
        /// What is wrong there.
        reason: CorruptReason,
    },
    /// The manifest was written by a format version this build does not read.
    #[error("manifest {file} has format version {version}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The manifest file.
        file: PathBuf,
        /// The version found in its header.
        version: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// `CURRENT` does not name a manifest file (`MANIFEST-` followed by digits).
    #[error("{path} does not name a manifest file (it holds {content:?})")]
    BadCurrent {
        /// The `CURRENT` file.
        path: PathBuf,
        /// Its content, shortened for display.
        content: String,
    },
    /// `CURRENT` names a manifest file that does not exist.
    #[error("{current} names {manifest}, which does not exist")]
    MissingManifest {
        /// The `CURRENT` file.
        current: PathBuf,
        /// The manifest it names.
        manifest: PathBuf,
    },
    /// Manifest files exist but no `CURRENT` file says which one is live.
    #[error("{dir} holds manifest files {manifests:?} but no CURRENT; restore CURRENT from a backup")]
    MissingCurrent {
        /// The database directory.
        dir: PathBuf,
        /// The manifest files found.
        manifests: Vec<PathBuf>,
    },
    /// The state refuses an edit; nothing was changed, in memory or on disk.
    #[error("manifest edit {edit} rejected: {reason}")]
    InvalidEdit {
        /// The kind of edit, e.g. `AddFile`.
        edit: &'static str,
        /// Why it was rejected.
        reason: EditError,
    },
    /// A group of edits encodes to more bytes than one record may hold.
    #[error("a manifest record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Encoded payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Edits could not be encoded as JSON.
    #[error("manifest edits could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// An earlier write or `fsync` of this manifest failed, so what is on disk is unknown; the
    /// manifest refuses further edits until the database is reopened.
    #[error("manifest {path} refuses edits after an earlier write failure; reopen the database")]
    Poisoned {
        /// The manifest file.
        path: PathBuf,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// An [`Error::InvalidEdit`].
    pub(crate) fn invalid(edit: &'static str, reason: EditError) -> Self {
        Error::InvalidEdit { edit, reason }
    }
}

/// What is wrong with a corrupt manifest record.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CorruptReason {
    /// The stored CRC32C does not match the payload.
    Checksum {
        /// CRC stored in the record header.
        stored: u32,
        /// CRC computed over the payload read.
        computed: u32,
    },
    /// The length field exceeds the record size limit.
    LengthTooLarge {
        /// The length read.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The length field is smaller than any record the writer produces.
    LengthTooSmall {
        /// The length read.
        len: u64,
    },
    /// The record runs past the end of the file.
    Truncated {
        /// Bytes the record needs from its start.
        needed: u64,
        /// Bytes left in the file from its start.
        available: u64,
    },
    /// The checksum matches but the payload is not a JSON list of edits.
    Json {
        /// The JSON parser's message.
        message: String,
    },
    /// The file does not start with a header record.
    MissingHeader,
    /// The header names another format.
    BadMagic {
        /// The magic found.
        got: String,
    },
    /// A header edit appears after the first record, or the first record holds more than the
    /// header.
    MisplacedHeader,
    /// The file ends before the snapshot its header announces is complete.
    SnapshotIncomplete {
        /// Snapshot records the header announces.
        expected: u64,
        /// Valid records found after the header.
        found: u64,
    },
    /// A durable record holds an edit that the state built from the records before it refuses.
    Rejected(EditError),
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Checksum { stored, computed } => {
                write!(f, "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
            Self::LengthTooLarge { len, max } => {
                write!(f, "record length {len} exceeds the limit {max}")
            }
            Self::LengthTooSmall { len } => write!(f, "record length {len} is too small"),
            Self::Truncated { needed, available } => {
                write!(f, "record needs {needed} bytes but {available} are left in the file")
            }
            Self::Json { message } => write!(f, "payload is not a list of edits: {message}"),
            Self::MissingHeader => f.write_str("the file does not start with a header record"),
            Self::BadMagic { got } => write!(f, "header magic is {got:?}, not an Isobar manifest"),
            Self::MisplacedHeader => f.write_str("header edit outside the first record"),
            Self::SnapshotIncomplete { expected, found } => {
                write!(f, "the header announces {expected} snapshot records, {found} were found")
            }
            Self::Rejected(e) => write!(f, "edit rejected on replay: {e}"),
        }
    }
}

/// Which id counter an edit would overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Table ids.
    Table,
    /// Family ids.
    Family,
    /// File ids.
    File,
    /// Tombstone ids.
    Tombstone,
}

/// Why the state refuses an edit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// An access catalog whose checksum or size is wrong.
    #[error("access catalog generation {generation}: {reason}")]
    BadAccessCatalog {
        /// The generation it carried.
        generation: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// An access catalog not newer than the one in force (a replayed or lost-race change).
    #[error("access catalog generation {got} is not above generation {current} in force")]
    AccessGeneration {
        /// The generation in force (0: none).
        current: u64,
        /// The generation the edit carried.
        got: u64,
    },
    /// A producer mark with an invalid id or a zero seq.
    #[error("producer mark {id:?} (applied seq {applied_seq}) is invalid: {reason}")]
    BadProducerMark {
        /// The id as recorded.
        id: String,
        /// The recorded seq.
        applied_seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A producer mark below the one in force (marks only go up unless the producer is
    /// forgotten first).
    #[error("producer {id:?}: mark {got} is below the recorded {current}")]
    ProducerSeqBackwards {
        /// The producer id.
        id: String,
        /// The mark in force.
        current: u64,
        /// The mark the edit carried.
        got: u64,
    },
    /// A compaction window must be a positive number of nanoseconds.
    #[error("family {family}: compaction window {window_ns} ns is not positive")]
    BadWindow {
        /// The family.
        family: FamilyId,
        /// The rejected width.
        window_ns: i64,
    },
    /// A window's `closed_after` must not be negative.
    #[error("family {family}: closed_after {closed_after_ns} ns is negative")]
    BadClosedAfter {
        /// The family.
        family: FamilyId,
        /// The rejected time.
        closed_after_ns: i64,
    },
    /// Header edits belong to the manifest file's first record only.
    #[error("a header edit cannot be applied to the state")]
    HeaderNotAllowed,
    /// A table with this id exists.
    #[error("table id {table} is in use")]
    TableIdInUse {
        /// The table id.
        table: TableId,
    },
    /// Another table has this name.
    #[error("table name {name:?} is used by table {table}")]
    TableNameInUse {
        /// The name.
        name: String,
        /// The table that has it.
        table: TableId,
    },
    /// No table with this id.
    #[error("table {table} does not exist")]
    UnknownTable {
        /// The table id.
        table: TableId,
    },
    /// A table definition without families.
    #[error("table {table} has no column families")]
    NoFamilies {
        /// The table id.
        table: TableId,
    },
    /// A table, family or column name breaks the naming rule.
    #[error("table {table}: {reason}")]
    BadName {
        /// The table id.
        table: TableId,
        /// The naming error (boxed: it is large and rare).
        reason: Box<InvalidInput>,
    },
    /// A family id is used by another family (in this or another table).
    #[error("family id {family} is already used by table {owner}")]
    FamilyIdInUse {
        /// The family id.
        family: FamilyId,
        /// The table that uses it.
        owner: TableId,
    },
    /// Two families of a table have one name.
    #[error("table {table} has two families named {name:?}")]
    DuplicateFamilyName {
        /// The table id.
        table: TableId,
        /// The name.
        name: String,
    },
    /// Two columns of a family have one id or one name.
    #[error("family {family} has two columns with id {column} or name {name:?}")]
    DuplicateColumn {
        /// The family id.
        family: FamilyId,
        /// The column id.
        column: ColumnId,
        /// The column name.
        name: String,
    },
    /// A table redefinition changes the type of an existing column.
    #[error("family {family} column {column} has type {old}; it cannot become {new}")]
    ColumnTypeChanged {
        /// The family id.
        family: FamilyId,
        /// The column id.
        column: ColumnId,
        /// The recorded type.
        old: ColumnType,
        /// The type asked for.
        new: ColumnType,
    },
    /// No live family with this id.
    #[error("family {family} does not exist")]
    UnknownFamily {
        /// The family id.
        family: FamilyId,
    },
    /// The family exists but belongs to another table.
    #[error("family {family} does not belong to table {table}")]
    FamilyNotInTable {
        /// The table id.
        table: TableId,
        /// The family id.
        family: FamilyId,
    },
    /// A live file has this id.
    #[error("file id {id} is already live in family {family}")]
    FileIdInUse {
        /// The file id.
        id: FileId,
        /// The family holding it.
        family: FamilyId,
    },
    /// The family has no live file with this id.
    #[error("family {family} has no file {id}")]
    UnknownFile {
        /// The family id.
        family: FamilyId,
        /// The file id.
        id: FileId,
    },
    /// A file with rows whose minimum exceeds its maximum.
    #[error("file {id}: min_ts {min_ts} > max_ts {max_ts} or min_seq {min_seq} > max_seq {max_seq}")]
    FileBounds {
        /// The file id.
        id: FileId,
        /// Smallest timestamp.
        min_ts: i64,
        /// Largest timestamp.
        max_ts: i64,
        /// Smallest sequence number.
        min_seq: u64,
        /// Largest sequence number.
        max_seq: u64,
    },
    /// A live tombstone has this id.
    #[error("tombstone id {id} is in use")]
    TombstoneIdInUse {
        /// The tombstone id.
        id: u64,
    },
    /// No live tombstone with this id.
    #[error("tombstone {id} does not exist")]
    UnknownTombstone {
        /// The tombstone id.
        id: u64,
    },
    /// A flushed or last sequence number lower than the one recorded.
    #[error("sequence number of {family:?} would go back from {current} to {got} (None = last_seq)")]
    SeqBackwards {
        /// The family for `FlushedSeq`, `None` for `LastSeq`.
        family: Option<FamilyId>,
        /// The recorded value.
        current: u64,
        /// The value asked for.
        got: u64,
    },
    /// An id at the top of its type's range: the counter past it cannot be represented.
    #[error("{kind:?} id {id} leaves no room for the next id")]
    IdOverflow {
        /// Which counter.
        kind: IdKind,
        /// The id.
        id: u64,
    },
}
