//! Wire write requests to engine write batches and back: pure, no I/O, unit-tested.
//!
//! - [`request_to_batch`]: a [`WriteRequest`] (columnar batches and/or rows) to one atomic
//!   [`WriteBatch`], checking the wire-level shape. Vectors are moved, not copied.
//! - [`rows_to_series`]: the row form grouped into one [`SeriesWrite`](isobar_storage::SeriesWrite) per `(table, series)`.
//! - [`batch_to_request`]: a [`WriteBatch`] to a [`WriteRequest`], for the Rust client, the CLI
//!   and the load generator.
//!
//! What is checked here: every column has one value slot per timestamp, validity bitmaps have
//! the right length and no stray bits, every `oneof` is set, a row names each cell once and a
//! column keeps one type within a series, the request is not empty and not over the row limit.
//! What is not: names, types against the catalog, key and string lengths, timestamp range; the
//! engine checks those when it applies the batch.

mod columnar;
mod rows;
mod to_proto;

#[cfg(test)]
mod tests;

pub use columnar::series_batch_to_write;
pub use isobar_wire::write::{CellAt, ColumnAt, ConvertError};
pub use rows::rows_to_series;
pub use to_proto::{batch_to_request, series_write_to_batch};

use isobar_proto::v1::{TsUnit, WriteRequest};
use isobar_storage::WriteBatch;

/// Converts a whole request into one atomic batch: first the columnar `batches` in order (those
/// with no timestamps are dropped), then the `rows` grouped by `(table, series)` in order of first
/// appearance.
///
/// `max_rows` bounds timestamps plus rows, checked before anything is converted. Timestamps are
/// multiplied by the request's `ts_unit` (unset: nanoseconds, unchanged).
pub fn request_to_batch(request: WriteRequest, max_rows: usize) -> Result<WriteBatch, ConvertError> {
    let rows = request_rows(&request);
    if rows == 0 {
        return Err(ConvertError::EmptyRequest);
    }
    if rows > max_rows {
        return Err(ConvertError::TooManyRows { rows, max: max_rows });
    }
    let unit = ts_unit_nanos(request.ts_unit)?;
    let mut batch = WriteBatch::new();
    batch.series.reserve(request.batches.len());
    for (index, series) in request.batches.into_iter().enumerate() {
        let write = series_batch_to_write(index, series)?;
        if !write.ts.is_empty() {
            batch.push(write);
        }
    }
    batch.series.extend(rows_to_series(request.rows)?);
    if let Some((nanos, unit)) = unit {
        scale_timestamps(&mut batch, nanos, unit)?;
    }
    Ok(batch)
}

/// Nanoseconds per unit and the unit's name for `ts_unit`; `None` for nanoseconds (nothing to do).
fn ts_unit_nanos(value: i32) -> Result<Option<(i64, &'static str)>, ConvertError> {
    match TsUnit::try_from(value) {
        Ok(TsUnit::Unspecified | TsUnit::Nanoseconds) => Ok(None),
        Ok(TsUnit::Seconds) => Ok(Some((1_000_000_000, "seconds"))),
        Ok(TsUnit::Milliseconds) => Ok(Some((1_000_000, "milliseconds"))),
        Ok(TsUnit::Microseconds) => Ok(Some((1_000, "microseconds"))),
        Err(_) => Err(ConvertError::UnknownTsUnit { value }),
    }
}

/// Multiplies every timestamp by `nanos`; an overflow refuses the whole request.
fn scale_timestamps(batch: &mut WriteBatch, nanos: i64, unit: &'static str) -> Result<(), ConvertError> {
    for series in &mut batch.series {
        for ts in &mut series.ts {
            *ts = ts.checked_mul(nanos).ok_or_else(|| ConvertError::TsOutOfRange {
                table: isobar_wire::shown::shown(&series.table),
                series: isobar_wire::shown::shown(&series.series),
                ts: *ts,
                unit,
            })?;
        }
    }
    Ok(())
}

/// Rows in a request: timestamps of every batch plus rows of the row form.
pub fn request_rows(request: &WriteRequest) -> usize {
    request.batches.iter().map(|b| b.ts.len()).sum::<usize>() + request.rows.len()
}
