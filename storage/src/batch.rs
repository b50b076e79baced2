//! Write batches: what a caller hands to [`Db::write`](crate::Db::write).
//!
//! A batch is columnar per series, the shape sensors and gateways produce: one series key, a list of
//! timestamps, and per column a typed value list with an optional validity list for sparse cells.
//! A batch may touch several series, families and tables; it is applied atomically (one WAL record,
//! one sequence number).

use crate::schema::ColumnType;

/// The values of one column in a [`SeriesWrite`]; one entry per row. Where the validity list marks
/// a row absent, the value in that slot is ignored.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValues {
    /// `f64` values.
    F64(Vec<f64>),
    /// `i64` values.
    I64(Vec<i64>),
    /// `bool` values.
    Bool(Vec<bool>),
    /// UTF-8 strings.
    String(Vec<String>),
}

impl ColumnValues {
    /// Number of rows (including absent ones).
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::F64(v) => v.len(),
            ColumnValues::I64(v) => v.len(),
            ColumnValues::Bool(v) => v.len(),
            ColumnValues::String(v) => v.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column type these values have.
    pub fn column_type(&self) -> ColumnType {
        match self {
            ColumnValues::F64(_) => ColumnType::F64,
            ColumnValues::I64(_) => ColumnType::I64,
            ColumnValues::Bool(_) => ColumnType::Bool,
            ColumnValues::String(_) => ColumnType::String,
        }
    }
}

/// One column of a [`SeriesWrite`].
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnWrite {
    /// Family name.
    pub family: String,
    /// Column name.
    pub column: String,
    /// One value per row.
    pub values: ColumnValues,
    /// `Some(v)`: row `i` has a value only where `v[i]` is true. `None`: every row has a value.
    pub validity: Option<Vec<bool>>,
    /// `Some(n)`: where `n[i]` is true, row `i` sets the column to null (an explicit null that
    /// overrides an older value; such a row must have no value). `None`: no explicit nulls; a row
    /// without a value then leaves the stored cell as it was.
    pub nulls: Option<Vec<bool>>,
}

/// Rows of one series of one table.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesWrite {
    /// Table name.
    pub table: String,
    /// Series key (UTF-8, ordered bytewise).
    pub series: String,
    /// Nanoseconds since the Unix epoch (UTC), one per row, any order.
    pub ts: Vec<i64>,
    /// Columns; each has exactly `ts.len()` values.
    pub columns: Vec<ColumnWrite>,
}

impl SeriesWrite {
    /// Rows of `series` in `table` at `ts`, with no columns yet.
    pub fn new(table: impl Into<String>, series: impl Into<String>, ts: Vec<i64>) -> Self {
        Self { table: table.into(), series: series.into(), ts, columns: Vec::new() }
    }

    /// Adds a column where every row has a value.
    pub fn column(mut self, family: &str, column: &str, values: ColumnValues) -> Self {
        self.columns.push(ColumnWrite {
            family: family.into(),
            column: column.into(),
            values,
            validity: None,
            nulls: None,
        });
        self
    }

    /// Adds a sparse column: `validity[i]` says whether row `i` has a value.
    pub fn sparse_column(mut self, family: &str, column: &str, values: ColumnValues, validity: Vec<bool>) -> Self {
        self.columns.push(ColumnWrite {
            family: family.into(),
            column: column.into(),
            values,
            validity: Some(validity),
            nulls: None,
        });
        self
    }

    /// Adds a sparse column with explicit nulls: `validity[i]` says whether row `i` has a value,
    /// `nulls[i]` whether it sets the stored cell to null (see [`ColumnWrite::nulls`]).
    pub fn column_with_nulls(
        mut self,
        family: &str,
        column: &str,
        values: ColumnValues,
        validity: Vec<bool>,
        nulls: Vec<bool>,
    ) -> Self {
        self.columns.push(ColumnWrite {
            family: family.into(),
            column: column.into(),
            values,
            validity: Some(validity),
            nulls: Some(nulls),
        });
        self
    }

    /// Number of cells that carry a value (the "points" of this write).
    pub fn points(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match &c.validity {
                None => c.values.len(),
                Some(v) => v.iter().filter(|b| **b).count(),
            })
            .sum()
    }
}

/// An atomic group of series writes, possibly across tables and families.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteBatch {
    /// The series writes, applied together or not at all.
    pub series: Vec<SeriesWrite>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a series write.
    pub fn push(&mut self, write: SeriesWrite) -> &mut Self {
        self.series.push(write);
        self
    }

    /// Total points (non-null cells) in the batch.
    pub fn points(&self) -> usize {
        self.series.iter().map(SeriesWrite::points).sum()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.ts.is_empty())
    }
}

impl From<SeriesWrite> for WriteBatch {
    fn from(write: SeriesWrite) -> Self {
        Self { series: vec![write] }
    }
}

/// What a successful write reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteReceipt {
    /// The sequence number of the write (its place in last-write-wins order).
    pub seq: u64,
    /// Rows written.
    pub rows: usize,
    /// Non-null cells written.
    pub points: usize,
    /// Rows written that were already past their TTL (never visible to reads).
    pub expired_rows: usize,
}
