//! Why an OTLP request is refused as a whole (nothing of it is written).

use isobar_storage::ColumnType;

/// A request Isobar refuses entirely.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// A metric name that does not give a valid table name.
    #[error(
        "metric \"{metric}\": not usable as a table name ({reason}); after `.`, `-`, `/` become `_` it must match [A-Za-z_][A-Za-z0-9_]{{0,127}}"
    )]
    BadMetricName {
        /// The metric name as sent.
        metric: String,
        /// Why the table name is invalid.
        reason: String,
    },
    /// A `time_unix_nano` outside what the database accepts.
    #[error("metric \"{metric}\": time_unix_nano {ts} is outside the accepted range {min}..={max} ns")]
    TimestampOutOfRange {
        /// The metric.
        metric: String,
        /// The timestamp as sent.
        ts: u64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// The attributes make a series key longer than `storage.max_series_key_len`.
    #[error("metric \"{metric}\": the series key made of the attributes is {len} bytes, more than the limit of {max}")]
    SeriesKeyTooLong {
        /// The metric.
        metric: String,
        /// The key's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A table's `value` column receives another type than it has.
    #[error("table \"{table}\": column \"value\" gets {got} values but is {expected} ({origin})")]
    TypeConflict {
        /// The table.
        table: String,
        /// The type sent.
        got: ColumnType,
        /// The type it has.
        expected: ColumnType,
        /// Where that type comes from (the schema or an earlier data point).
        origin: String,
    },
    /// The table of a metric does not exist and `otlp.create_tables` is false.
    #[error("table \"{table}\" does not exist and otlp.create_tables is false (create it first)")]
    UnknownTable {
        /// The table.
        table: String,
    },
    /// The table exists but has no such family or column, and no dynamic columns.
    #[error("table \"{table}\" has no column \"{family}.value\" and no dynamic columns to add it")]
    NoValueColumn {
        /// The table.
        table: String,
        /// The configured family.
        family: String,
    },
    /// The shared table-creation and write step refused the batch.
    #[error("{0}")]
    Write(String),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] isobar_storage::Error),
}
