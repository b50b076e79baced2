//! [`Error`]: why a query could not be answered, with the facts a person needs to fix it.

use std::path::PathBuf;

use crate::resolve::ResolveError;

/// Result of a query operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A query that cannot be executed, or that failed while executing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `from >= to`.
    #[error("empty time range: from {from} must be before to {to} (nanoseconds since the epoch)")]
    EmptyRange {
        /// Inclusive start sent.
        from: i64,
        /// Exclusive end sent.
        to: i64,
    },
    /// A bucket width of zero or less.
    #[error("bucket width must be positive, got {width_ns} ns")]
    BucketWidth {
        /// The width sent.
        width_ns: i64,
    },
    /// A time zone name that the time-zone database does not know.
    #[error("bucket time zone: {reason}")]
    TimeZone {
        /// The name sent.
        name: String,
        /// What the database said.
        reason: String,
    },
    /// A bucket origin with calendar buckets.
    #[error(
        "a bucket origin applies to fixed-width buckets only; day buckets in a time zone start at local midnight and month buckets on the 1st"
    )]
    CalendarOrigin,
    /// Both a fixed width and months.
    #[error("a bucket is either a width ({width_ns} ns) or a number of months ({months}), not both")]
    MonthsAndWidth {
        /// The width sent.
        width_ns: i64,
        /// The months sent.
        months: u32,
    },
    /// A time zone with buckets that are not whole days.
    #[error(
        "buckets in time zone {zone} must be whole days or months (got {width_ns} ns); hour and minute buckets are the same in every zone with whole-hour offsets, and --origin aligns them otherwise"
    )]
    ZoneNeedsDays {
        /// The width sent.
        width_ns: i64,
        /// The zone.
        zone: String,
    },
    /// An aggregate query without aggregations.
    #[error("the query has no aggregations; add at least one, e.g. avg of env.temp")]
    NoAggregations,
    /// An aggregation over `family.*`.
    #[error("aggregations[{index}]: {column} names a whole family; aggregate one column")]
    WildcardAggregation {
        /// Position in the aggregation list.
        index: usize,
        /// The reference.
        column: String,
    },
    /// Unknown family or column, or a function that needs a numeric column.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// Two aggregations with the same output name.
    #[error("two aggregations are named \"{name}\"; give one an alias")]
    DuplicateOutput {
        /// The repeated name.
        name: String,
    },
    /// Filling empty buckets without buckets.
    #[error("fill {fill} needs a bucket width (without buckets there is nothing to fill)")]
    FillNeedsBucket {
        /// The fill asked for.
        fill: &'static str,
    },
    /// Filling empty buckets over a range without both ends.
    #[error("fill {fill} needs a time range with both from and to set (which buckets are empty otherwise?)")]
    FillNeedsBoundedRange {
        /// The fill asked for.
        fill: &'static str,
    },
    /// Filling would produce more buckets per group than allowed.
    #[error(
        "fill would produce {buckets} buckets per group, more than the limit of {limit}; widen the bucket or narrow the range"
    )]
    TooManyBuckets {
        /// Buckets the range holds.
        buckets: u128,
        /// The limit.
        limit: u128,
    },
    /// An integer sum that does not fit an i64.
    #[error("sum of {column} overflows a 64-bit integer in the bucket starting at {bucket_ns} (series {series})")]
    SumOverflow {
        /// `family.column`.
        column: String,
        /// Start of the bucket.
        bucket_ns: i64,
        /// The series, or `*` across series.
        series: String,
    },
    /// The export destination already holds files.
    #[error(
        "export destination {path} is not empty; choose an empty or new directory, or replace the export it \
         holds with --overwrite (ExportRequest.overwrite)"
    )]
    DestinationNotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// An overwrite of a destination that holds something no export wrote; nothing was removed.
    #[error(
        "export destination {path} holds {entry}, which no export wrote; --overwrite replaces only a previous \
         export (part-N.parquet files, date=/month=/year= and family directories, no symbolic links): move it \
         away or choose another destination"
    )]
    DestinationForeign {
        /// The directory.
        path: PathBuf,
        /// The first entry found that an export does not write.
        entry: PathBuf,
    },
    /// Two exported columns with one name, or a column named like `series`, `ts` or the
    /// partition column.
    #[error(
        "column {column} would be exported as \"{name}\", the name of {clash} (--naming {naming}); choose \
         another naming (dotted keeps family.column), another partitioning, or leave one of them out"
    )]
    ExportColumnName {
        /// The column, `family.column`.
        column: String,
        /// The name it would have.
        name: String,
        /// What already has that name.
        clash: String,
        /// The naming asked for.
        naming: &'static str,
    },
    /// The export would write more than its byte quota; what it wrote is removed.
    #[error(
        "export stopped: it would write more than {limit} bytes, its byte quota (server.export_max_bytes); \
         its partial files were removed; export a narrower table, time range or set of columns, or raise the quota"
    )]
    ExportQuota {
        /// The quota in bytes.
        limit: u64,
    },
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An export worker thread panicked (a bug; the export's files are incomplete).
    #[error("an export worker panicked (a bug); the export's partial files were removed")]
    WorkerPanicked,
    /// The storage engine failed (unknown table, corrupt file, ...).
    #[error(transparent)]
    Storage(#[from] isobar_storage::Error),
    /// Building an Arrow array or batch failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Writing Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
