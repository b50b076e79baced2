//! What can be wrong with the shape of a write request, with where it is (the checks
//! themselves are `isobar_ingest::convert`'s; the errors are here so that the status table in
//! [`crate::status`] can name every one).
//!
//! These are wire-level problems only (lengths, bitmaps, unset `oneof`s, sizes). Names, types
//! against the catalog and limits such as key length are checked by the engine.

use isobar_storage::ColumnType;

use crate::shown::shown;

/// A `(batch, table, series, column)` position in the columnar part of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnAt {
    /// Index in `WriteRequest.batches`.
    pub batch: usize,
    /// Table name (escaped, at most 128 characters).
    pub table: String,
    /// Series key (escaped, at most 128 characters).
    pub series: String,
    /// Family name (escaped, at most 128 characters).
    pub family: String,
    /// Column name (escaped, at most 128 characters).
    pub column: String,
}

impl ColumnAt {
    /// The position of column `family.column` of batch `batch` (boxed: errors stay small).
    pub fn new(batch: usize, table: &str, series: &str, family: &str, column: &str) -> Box<Self> {
        Box::new(Self {
            batch,
            table: shown(table),
            series: shown(series),
            family: shown(family),
            column: shown(column),
        })
    }
}

impl std::fmt::Display for ColumnAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "batches[{}] (table \"{}\", series \"{}\"): column {}.{}",
            self.batch, self.table, self.series, self.family, self.column
        )
    }
}

/// A `(row, table, series, cell)` position in the row part of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellAt {
    /// Index in `WriteRequest.rows`.
    pub row: usize,
    /// Table name (escaped, at most 128 characters).
    pub table: String,
    /// Series key (escaped, at most 128 characters).
    pub series: String,
    /// Family name (escaped, at most 128 characters).
    pub family: String,
    /// Column name (escaped, at most 128 characters).
    pub column: String,
}

impl CellAt {
    /// The position of cell `family.column` of row `row` (boxed: errors stay small).
    pub fn new(row: usize, table: &str, series: &str, family: &str, column: &str) -> Box<Self> {
        Box::new(Self { row, table: shown(table), series: shown(series), family: shown(family), column: shown(column) })
    }
}

impl std::fmt::Display for CellAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows[{}] (table \"{}\", series \"{}\"): cell {}.{}",
            self.row, self.table, self.series, self.family, self.column
        )
    }
}

/// A write request whose shape is wrong; nothing of it was written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConvertError {
    /// The request carries no row at all.
    #[error("the write request has no rows (set batches with timestamps, or rows)")]
    EmptyRequest,
    /// More rows than the server accepts in one request.
    #[error("the write request has {rows} rows, the limit is {max}; split it")]
    TooManyRows {
        /// Rows in the request (timestamps of all batches plus rows).
        rows: usize,
        /// The limit.
        max: usize,
    },
    /// A column has another number of values than its batch has timestamps.
    #[error("{at} has {got} values but the batch has {expected} timestamps")]
    ValuesLength {
        /// Where.
        at: Box<ColumnAt>,
        /// Number of timestamps.
        expected: usize,
        /// Number of values.
        got: usize,
    },
    /// A validity bitmap of the wrong byte length.
    #[error(
        "{at}: validity bitmap has {got} bytes; {rows} rows need {expected} bytes (or none when every row has a value)"
    )]
    ValidityLength {
        /// Where.
        at: Box<ColumnAt>,
        /// Rows of the batch.
        rows: usize,
        /// `ceil(rows / 8)`.
        expected: usize,
        /// Bytes sent.
        got: usize,
    },
    /// A validity bitmap with a bit set past the last row.
    #[error("{at}: validity bitmap marks row {row} but the batch has only {rows} rows")]
    ValidityPadding {
        /// Where.
        at: Box<ColumnAt>,
        /// The first set bit past the rows.
        row: usize,
        /// Rows of the batch.
        rows: usize,
    },
    /// A nulls bitmap of the wrong byte length.
    #[error("{at}: nulls bitmap has {got} bytes; {rows} rows need {expected} bytes (or none when no row sets a null)")]
    NullsLength {
        /// Where.
        at: Box<ColumnAt>,
        /// Rows of the batch.
        rows: usize,
        /// `ceil(rows / 8)`.
        expected: usize,
        /// Bytes sent.
        got: usize,
    },
    /// A nulls bitmap with a bit set past the last row.
    #[error("{at}: nulls bitmap marks row {row} but the batch has only {rows} rows")]
    NullsPadding {
        /// Where.
        at: Box<ColumnAt>,
        /// The first set bit past the rows.
        row: usize,
        /// Rows of the batch.
        rows: usize,
    },
    /// A column without values (its `oneof values` is unset).
    #[error("{at} has no values; set one of f64_values, i64_values, bool_values, string_values")]
    MissingValues {
        /// Where.
        at: Box<ColumnAt>,
    },
    /// A cell without a value (its `oneof value` is unset).
    #[error("{at} has no value; set one of f64_value, i64_value, bool_value, string_value")]
    MissingCellValue {
        /// Where.
        at: Box<CellAt>,
    },
    /// A cell with both a value and `null` set.
    #[error("{at} has a value and null = true; send one of them")]
    NullWithValue {
        /// Where.
        at: Box<CellAt>,
    },
    /// The same cell twice in one row.
    #[error("{at} appears twice in the row")]
    DuplicateCell {
        /// Where (the second occurrence).
        at: Box<CellAt>,
    },
    /// `ts_unit` is not one of the enum's values.
    #[error("ts_unit {value} is not a TsUnit (0 unset/ns, 1 s, 2 ms, 3 us, 4 ns)")]
    UnknownTsUnit {
        /// The value sent.
        value: i32,
    },
    /// A timestamp that overflows i64 nanoseconds once multiplied by `ts_unit`.
    #[error(
        "table \"{table}\", series \"{series}\": timestamp {ts} in {unit} is outside the range of nanosecond \
         timestamps (years 1678 to 2261)"
    )]
    TsOutOfRange {
        /// Table (escaped).
        table: String,
        /// Series (escaped).
        series: String,
        /// The timestamp as sent.
        ts: i64,
        /// The unit's name.
        unit: &'static str,
    },
    /// A cell of another type than the same column in earlier rows of the same series.
    #[error("{at} is {got} but earlier rows of this series sent {expected}")]
    CellTypeConflict {
        /// Where.
        at: Box<CellAt>,
        /// Type in earlier rows.
        expected: ColumnType,
        /// Type in this row.
        got: ColumnType,
    },
}
