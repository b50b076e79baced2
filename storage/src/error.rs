//! The engine's error types: one small enum per subsystem, composed here with `#[from]`.
//!
//! [`InvalidInput`] is everything a caller can fix (unknown names, wrong types, limits); the
//! server maps it to `INVALID_ARGUMENT`/`NOT_FOUND`/`ALREADY_EXISTS`. [`Error::Overloaded`] is
//! back-pressure (retry later); everything else is an engine or disk fault.

use std::path::PathBuf;
use std::time::Duration;

use crate::schema::ColumnType;

/// Result alias of the storage crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the engine returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is wrong; nothing was changed.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The write-ahead log failed.
    #[error(transparent)]
    Wal(#[from] crate::wal::Error),
    /// A WAL record passed its checksum but its payload does not decode (written by a newer or
    /// broken build).
    #[error("WAL record {seq} has a payload this build cannot decode: {source}")]
    WalPayload {
        /// Sequence number of the record.
        seq: u64,
        /// What was wrong.
        #[source]
        source: crate::codec::DecodeError,
    },
    /// A WAL record decodes but does not fit the catalog (a column the table lacks, or values of
    /// another type): the log and the manifest disagree, which only damage or a bug can cause.
    #[error("WAL record {seq} does not fit the catalog: {reason}")]
    WalMismatch {
        /// Sequence number of the record.
        seq: u64,
        /// What does not fit.
        reason: String,
    },
    /// Memtables cannot be flushed; the rows stay in memory and in the WAL while the flush
    /// worker keeps retrying.
    #[error("flushing memtables fails: {reason} (rows stay in memory and in the WAL; the flush is retried)")]
    FlushFailing {
        /// The last flush error.
        reason: String,
    },
    /// An SSTable could not be written or read.
    #[error(transparent)]
    Sst(#[from] crate::sst::Error),
    /// The manifest could not be written or read.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::Error),
    /// An Arrow kernel failed while assembling a result (a bug, not bad input).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The engine is behind (flushes or compaction); nothing was written. Retry after the hint.
    #[error("overloaded, retry in {retry_after:?}: {reason}")]
    Overloaded {
        /// Why the engine refused the write.
        reason: String,
        /// A suggested wait before retrying.
        retry_after: Duration,
    },
    /// The file system is full (`ENOSPC` or a quota): nothing of the failed operation is
    /// acknowledged. `resumes` tells whether the engine picks up by itself once space is freed
    /// (a flush, compaction or WAL write that failed is retried; the request can be retried) or
    /// refuses writes until the database is reopened.
    #[error("disk full: {during} failed on {path}: no space left on that file system; free space there, then {}", remedy(*.resumes))]
    DiskFull {
        /// What the engine was doing, e.g. `WAL append`, `flush`.
        during: &'static str,
        /// The file or directory that could not be written.
        path: PathBuf,
        /// True when the engine resumes by itself once space is freed.
        resumes: bool,
    },
    /// A background worker failed; the database refuses further writes until it is reopened.
    #[error("database is read-only after a background failure: {0}")]
    Poisoned(String),
    /// A WAL write or sync failed (a full disk, an I/O error): writes are refused until the
    /// engine has recovered, which it retries by itself with back-off ([`Db::resume`] retries
    /// now). Retrying the request later can succeed.
    ///
    /// [`Db::resume`]: crate::Db::resume
    #[error("writes are suspended after a failure the engine recovers from; retry later: {0}")]
    Suspended(String),
    /// The database was closed.
    #[error("database is closed")]
    Closed,
    /// Another process holds the data directory.
    #[error("data directory {path} is locked by another process (remove nothing by hand; stop that process)")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// True when retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Overloaded { .. } | Error::DiskFull { resumes: true, .. } | Error::Suspended(_))
    }

    /// The file an I/O error of this error says is on a full file system (`ENOSPC`/`EDQUOT`).
    pub fn disk_full_path(&self) -> Option<&std::path::Path> {
        let (path, source): (&std::path::Path, &std::io::Error) = match self {
            Error::Io { path, source } => (path, source),
            Error::DiskFull { path, .. } => return Some(path),
            Error::Sst(crate::sst::Error::Io { file, source }) => (file, source),
            Error::Manifest(crate::manifest::Error::Io { path, source }) => (path, source),
            Error::Wal(crate::wal::Error::Io { path, source }) => (path, source),
            Error::Wal(crate::wal::Error::Failed { segment, source, .. }) => (segment, &**source),
            _ => return None,
        };
        is_disk_full(source).then_some(path)
    }
}

/// What to do after a disk-full error.
fn remedy(resumes: bool) -> &'static str {
    if resumes {
        "retry: the engine resumes by itself (failed flushes, compactions and WAL writes are retried with back-off; \
         `isobar admin resume` retries now)"
    } else {
        "reopen the database: it refuses writes until then (acknowledged writes are safe in the WAL)"
    }
}

/// A request the engine refuses because of what it asks; nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A name breaks `[A-Za-z_][A-Za-z0-9_]{0,127}`.
    #[error("invalid {kind} name \"{name}\": {reason}; names match [A-Za-z_][A-Za-z0-9_]{{0,127}}")]
    InvalidName {
        /// What the name is for.
        kind: NameKind,
        /// The rejected name, escaped and shortened for display.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No table by that name.
    #[error("table \"{table}\" does not exist")]
    UnknownTable {
        /// Table name.
        table: String,
    },
    /// A table by that name exists already.
    #[error("table \"{table}\" already exists")]
    TableExists {
        /// Table name.
        table: String,
    },
    /// No such family in the table.
    #[error("table \"{table}\" has no column family \"{family}\" (it has: {known})")]
    UnknownFamily {
        /// Table name.
        table: String,
        /// Family name.
        family: String,
        /// The families that exist, comma-separated.
        known: String,
    },
    /// A family by that name exists already.
    #[error("table \"{table}\" already has a column family \"{family}\"")]
    FamilyExists {
        /// Table name.
        table: String,
        /// Family name.
        family: String,
    },
    /// No such column, and the table does not allow new columns on write.
    #[error(
        "table \"{table}\" family \"{family}\" has no column \"{column}\" and the table does not allow new columns on write"
    )]
    UnknownColumn {
        /// Table name.
        table: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
    },
    /// A column by that name exists already.
    #[error("table \"{table}\" family \"{family}\" already has a column \"{column}\"")]
    ColumnExists {
        /// Table name.
        table: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
    },
    /// A value of the wrong type for its column.
    #[error(
        "table \"{table}\" series \"{series}\": column {family}.{column} has type {expected}, the write sent {got}"
    )]
    TypeMismatch {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
        /// The column's type.
        expected: ColumnType,
        /// The type that was sent.
        got: ColumnType,
    },
    /// A column's value (or validity) list has another length than the timestamps.
    #[error("table \"{table}\" series \"{series}\": {what} has {got} entries but there are {expected} timestamps")]
    LengthMismatch {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Which list, e.g. `column readings.velocity`.
        what: String,
        /// Number of timestamps.
        expected: usize,
        /// Length of the list.
        got: usize,
    },
    /// A row of a column write has both a value and an explicit null.
    #[error(
        "table \"{table}\" series \"{series}\": row {row} of column {family}.{column} has both a value and an explicit null; send one of them"
    )]
    ValueAndNull {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
        /// Row index within the series write.
        row: usize,
    },
    /// The same column appears twice in one series write.
    #[error("table \"{table}\" series \"{series}\": column {family}.{column} appears twice")]
    DuplicateColumn {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
    },
    /// Every row of a write is already past its TTL: reads would never return any of it.
    #[error(
        "all {rows} rows of the write are past the TTL of table \"{table}\" ({ttl}) and would never be visible; \
         raise or remove the TTL first to load older data (isobar table alter {table} with a longer --ttl, --no-ttl FAMILY or --no-table-ttl)"
    )]
    AllExpired {
        /// Table name.
        table: String,
        /// Rows in the write.
        rows: usize,
        /// The TTL, as people write it (`365d`).
        ttl: String,
    },
    /// A timestamp outside the accepted range.
    #[error(
        "table \"{table}\" series \"{series}\" row {row}: timestamp {ts} is outside the accepted range [{min}, {max}] (nanoseconds since 1970-01-01 UTC)"
    )]
    TimestampOutOfRange {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Row index within the series write.
        row: usize,
        /// The timestamp.
        ts: i64,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// A series key that is empty or longer than the limit.
    #[error("table \"{table}\": series key of {len} bytes is not accepted (must be 1 to {max} bytes of UTF-8)")]
    BadSeriesKey {
        /// Table name.
        table: String,
        /// Length of the key in bytes.
        len: usize,
        /// Limit in bytes.
        max: usize,
    },
    /// A string value longer than the limit.
    #[error(
        "table \"{table}\" series \"{series}\" row {row}: string in {family}.{column} has {len} bytes, the limit is {max}"
    )]
    StringTooLong {
        /// Table name.
        table: String,
        /// Series key.
        series: String,
        /// Family name.
        family: String,
        /// Column name.
        column: String,
        /// Row index.
        row: usize,
        /// Length in bytes.
        len: usize,
        /// Limit in bytes.
        max: usize,
    },
    /// Too many rows in one batch.
    #[error("the batch has {rows} rows, the limit is {max}; split it")]
    TooManyRows {
        /// Rows in the batch.
        rows: usize,
        /// Limit.
        max: usize,
    },
    /// A write that would take a table past its column limit.
    #[error(
        "table {table}: the write would give it {columns} columns, the limit is {max} (storage.max_columns_per_table)"
    )]
    TooManyColumns {
        /// Table name.
        table: String,
        /// Columns the table would have.
        columns: usize,
        /// Limit.
        max: usize,
    },
    /// A write that adds more columns than one request may.
    #[error(
        "table {table}: the write adds at least {new} new columns, the limit per request is {max} (storage.max_new_columns_per_request); split it"
    )]
    TooManyNewColumns {
        /// Table name where the limit was crossed.
        table: String,
        /// New columns counted so far in the request.
        new: usize,
        /// Limit.
        max: usize,
    },
    /// A write request with more distinct series than one request may carry.
    #[error(
        "the write request has more than {max} distinct series (counted {series} so far), the limit per request is {max} (storage.max_series_per_request); split it"
    )]
    TooManySeries {
        /// Distinct series counted when the limit was passed.
        series: usize,
        /// Limit.
        max: usize,
    },
    /// A write request with more cells (present values) than one request may carry.
    #[error(
        "the write request has more than {max} cells (counted {cells} so far), the limit per request is {max} (storage.max_cells_per_request); split it"
    )]
    TooManyCells {
        /// Cells counted when the limit was passed.
        cells: u64,
        /// Limit.
        max: u64,
    },
    /// A write that would create a producer past its owner's cap.
    #[error(
        "the caller already has {count} idempotent producers, the limit per identity is {max} (storage.max_producers_per_owner); reuse producer ids, or wait until idle ones expire (storage.producer_state_ttl)"
    )]
    TooManyProducers {
        /// Producers the owner has.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// A producer id that is empty, too long or holds a character outside `[A-Za-z0-9._:-]`.
    #[error("invalid producer id \"{id}\": {reason}; producer ids are 1 to 128 bytes of [A-Za-z0-9._:-]")]
    BadProducerId {
        /// The rejected id, escaped and shortened for display.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A producer write numbered 0.
    #[error("producer \"{producer}\": producer_seq must be at least 1 (producers number their batches 1, 2, 3, ...)")]
    ProducerSeqZero {
        /// The producer id.
        producer: String,
    },
    /// A write with no rows or a table with no families.
    #[error("{0}")]
    Empty(&'static str),
    /// A time range with `from >= to`, or another impossible request.
    #[error("{0}")]
    Impossible(String),
}

/// What a name names; used in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A table name.
    Table,
    /// A column-family name.
    Family,
    /// A column name.
    Column,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Table => "table",
            NameKind::Family => "family",
            NameKind::Column => "column",
        })
    }
}

/// True when `e` says the file system is full (`ENOSPC`, or `EDQUOT` for a quota).
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}
