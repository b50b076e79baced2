//! Arrow record batches of a Flight SQL bulk ingest -> one engine [`WriteBatch`], without any
//! protobuf in between.
//!
//! A batch has a `series` column (UTF-8, no nulls), a `ts` column (an Arrow timestamp of any
//! unit, or `Int64` nanoseconds; no nulls) and value columns. [`Target`] says which family each
//! value column belongs to. A value column's Arrow type is cast to the declared type of the
//! column when the table has it (so pandas' `int64` fills an `f64` column), else to the engine
//! type of its Arrow type (`Float*` -> f64, integers -> i64, `Boolean` -> bool, strings -> string),
//! which a table with dynamic columns then adds. Nulls are absent cells.
//!
//! Rows are grouped per series in the order series first appear: a run of rows of one series
//! is copied as a slice, so input sorted by series (what exports and generators produce) costs
//! one copy per column.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, TimeUnit};
use isobar_storage::{ColumnType, ColumnValues, ColumnWrite, SeriesWrite, TableDef, WriteBatch};

use super::errors::IngestError;

/// The name of the series-key column.
pub const SERIES: &str = "series";
/// The name of the timestamp column.
pub const TS: &str = "ts";

/// The bytes a decoded batch holds, for the ingest budget: the sum of each column's own slice of
/// its buffers. Columns decoded from one Flight message share that message's allocation, and
/// `RecordBatch::get_array_memory_size` counts the whole allocation once per column (a 12-column
/// batch of 1 MiB weighed 13 MiB and a 4-stream bulk ingest was refused as "server busy").
pub fn admitted_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|column| column.to_data().get_slice_memory_size().unwrap_or_else(|_| column.get_array_memory_size()))
        .sum()
}

/// Where the value columns of an ingest go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every value column into this family, under its own name (a family relation such as
    /// `iot.readings`).
    Family {
        /// The table.
        table: String,
        /// The family.
        family: String,
    },
    /// Value columns named `family.column` (a table relation in schema `public`).
    Table {
        /// The table.
        table: String,
    },
}

impl Target {
    /// The table written.
    pub fn table(&self) -> &str {
        match self {
            Target::Family { table, .. } | Target::Table { table } => table,
        }
    }

    /// `(family, column)` of the value column named `name`.
    fn place<'a>(&'a self, name: &'a str) -> Result<(&'a str, &'a str), IngestError> {
        match self {
            Target::Family { family, .. } => Ok((family, name)),
            Target::Table { table } => name.split_once('.').ok_or_else(|| IngestError::Column {
                column: name.to_owned(),
                reason: format!(
                    "a column ingested into the table relation \"{table}\" is named family.column \
                     (or ingest into the family's relation with db_schema_name = \"{table}\")"
                ),
            }),
        }
    }
}

/// One value column of the input: where it goes and the engine type it is cast to.
struct ValueColumn {
    index: usize,
    family: String,
    column: String,
    ty: ColumnType,
}

/// Converts `batches` (all of one schema) into one write of `target`; `def` is the table's
/// current definition (for the declared column types). Fails on the first bad column or row,
/// naming it; converts nothing partially.
pub fn to_write_batch(target: &Target, def: &TableDef, batches: &[RecordBatch]) -> Result<WriteBatch, IngestError> {
    let Some(first) = batches.first() else {
        return Ok(WriteBatch::new());
    };
    let schema = first.schema();
    let series_at = schema.index_of(SERIES).map_err(|_| IngestError::MissingColumn { column: SERIES })?;
    let ts_at = schema.index_of(TS).map_err(|_| IngestError::MissingColumn { column: TS })?;
    let mut values = Vec::new();
    for (index, field) in schema.fields().iter().enumerate() {
        if index == series_at || index == ts_at {
            continue;
        }
        let (family, column) = target.place(field.name())?;
        let declared = def.family(family).and_then(|f| f.column(column)).map(|c| c.ty);
        let ty = match declared {
            Some(ty) => ty,
            None => engine_type(field.data_type()).ok_or_else(|| IngestError::Column {
                column: field.name().clone(),
                reason: format!(
                    "Arrow type {} has no Isobar column type (f64, i64, bool or string)",
                    field.data_type()
                ),
            })?,
        };
        values.push(ValueColumn { index, family: family.to_owned(), column: column.to_owned(), ty });
    }
    let mut out = Builder::default();
    let mut row_base = 0usize;
    for batch in batches {
        if !same_columns(&batch.schema(), &schema) {
            return Err(IngestError::SchemaChanged);
        }
        out.add(target.table(), batch, series_at, ts_at, &values, row_base)?;
        row_base += batch.num_rows();
    }
    Ok(out.batch)
}

/// Whether two schemas have the same column names and types (nullability may differ: a batch
/// built from data marks a column nullable only where it has a null).
fn same_columns(a: &arrow_schema::Schema, b: &arrow_schema::Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields().iter().zip(b.fields()).all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// The engine type an Arrow type maps to by default.
fn engine_type(ty: &DataType) -> Option<ColumnType> {
    match ty {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Some(ColumnType::F64),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Some(ColumnType::I64),
        DataType::Boolean => Some(ColumnType::Bool),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ColumnType::String),
        DataType::Dictionary(_, inner) => engine_type(inner),
        _ => None,
    }
}

/// Casts that fail on overflow or a lost value instead of writing null.
const STRICT: CastOptions<'static> =
    CastOptions { safe: false, format_options: arrow_cast::display::FormatOptions::new() };

/// `array` cast to `to`, with the column named in the error.
fn cast(array: &ArrayRef, to: &DataType, column: &str) -> Result<ArrayRef, IngestError> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    cast_with_options(array, to, &STRICT).map_err(|e| IngestError::Column {
        column: column.to_owned(),
        reason: format!("cannot convert {} to {to}: {e}", array.data_type()),
    })
}

/// The `ts` column as nanoseconds.
fn timestamps(array: &ArrayRef) -> Result<ArrayRef, IngestError> {
    match array.data_type() {
        DataType::Int64 => Ok(array.clone()),
        DataType::Timestamp(_, _) => {
            let ns = cast(array, &DataType::Timestamp(TimeUnit::Nanosecond, None), TS)?;
            Ok(std::sync::Arc::new(ns.as_primitive::<TimestampNanosecondType>().reinterpret_cast::<Int64Type>()))
        }
        other => Err(IngestError::Column {
            column: TS.to_owned(),
            reason: format!("expected an Arrow timestamp or Int64 nanoseconds since the Unix epoch, got {other}"),
        }),
    }
}

/// The series writes being built, one per series in order of appearance.
#[derive(Default)]
struct Builder {
    batch: WriteBatch,
    by_series: HashMap<String, usize>,
}

impl Builder {
    fn add(
        &mut self,
        table: &str,
        batch: &RecordBatch,
        series_at: usize,
        ts_at: usize,
        values: &[ValueColumn],
        row_base: usize,
    ) -> Result<(), IngestError> {
        let series = cast(batch.column(series_at), &DataType::Utf8, SERIES)?;
        let series = series.as_string::<i32>();
        let ts = timestamps(batch.column(ts_at))?;
        let ts = ts.as_primitive::<Int64Type>();
        for (name, array) in [(SERIES, series as &dyn Array), (TS, ts as &dyn Array)] {
            if let Some(row) = (0..array.len()).find(|i| array.is_null(*i)) {
                return Err(IngestError::NullKey { column: name, row: row_base + row });
            }
        }
        let cast_values = values
            .iter()
            .map(|v| cast(batch.column(v.index), &v.ty.arrow_type(), &format!("{}.{}", v.family, v.column)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut start = 0;
        while start < batch.num_rows() {
            let key = series.value(start);
            let end = (start + 1..batch.num_rows()).find(|i| series.value(*i) != key).unwrap_or(batch.num_rows());
            let write = self.series_write(table, key, values);
            write.ts.extend_from_slice(ts.values().get(start..end).unwrap_or_default());
            for (column, array) in write.columns.iter_mut().zip(&cast_values) {
                append(column, &array.slice(start, end - start));
            }
            start = end;
        }
        Ok(())
    }

    /// The write of `series`, created with empty columns on first sight.
    fn series_write(&mut self, table: &str, series: &str, values: &[ValueColumn]) -> &mut SeriesWrite {
        let at = *self.by_series.entry(series.to_owned()).or_insert_with(|| {
            let columns = values
                .iter()
                .map(|v| ColumnWrite {
                    family: v.family.clone(),
                    column: v.column.clone(),
                    values: empty(v.ty),
                    validity: None,
                    nulls: None,
                })
                .collect();
            self.batch.series.push(SeriesWrite {
                table: table.to_owned(),
                series: series.to_owned(),
                ts: Vec::new(),
                columns,
            });
            self.batch.series.len() - 1
        });
        // `at` was pushed above or earlier and the list only grows.
        &mut self.batch.series[at]
    }
}

fn empty(ty: ColumnType) -> ColumnValues {
    match ty {
        ColumnType::F64 => ColumnValues::F64(Vec::new()),
        ColumnType::I64 => ColumnValues::I64(Vec::new()),
        ColumnType::Bool => ColumnValues::Bool(Vec::new()),
        ColumnType::String => ColumnValues::String(Vec::new()),
    }
}

/// Appends `piece` (already of the column's Arrow type) to `column`, nulls as absent cells.
fn append(column: &mut ColumnWrite, piece: &ArrayRef) {
    let before = column.values.len();
    match &mut column.values {
        ColumnValues::F64(v) => v.extend_from_slice(piece.as_primitive::<Float64Type>().values()),
        ColumnValues::I64(v) => v.extend_from_slice(piece.as_primitive::<Int64Type>().values()),
        ColumnValues::Bool(v) => v.extend(piece.as_boolean().values().iter()),
        ColumnValues::String(v) => {
            let strings = piece.as_string::<i32>();
            v.extend((0..strings.len()).map(|i| strings.value(i).to_owned()));
        }
    }
    match (&mut column.validity, piece.logical_nulls()) {
        (None, None) => {}
        (Some(valid), None) => valid.resize(before + piece.len(), true),
        (validity, Some(nulls)) => {
            let valid = validity.get_or_insert_with(|| vec![true; before]);
            valid.extend(nulls.iter());
        }
    }
}

#[cfg(test)]
mod tests;
