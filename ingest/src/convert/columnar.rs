//! The columnar form: one `SeriesBatch` to one `SeriesWrite`.

use isobar_proto::v1::{SeriesBatch, column::Values};
use isobar_storage::{ColumnValues, ColumnWrite, SeriesWrite};

use crate::bitmap::{self, BitmapError};
use isobar_wire::write::{ColumnAt, ConvertError};

/// Converts `batch` (at index `index` of the request, for errors) into a series write, moving its
/// vectors. A validity bitmap with every bit set becomes `None`.
pub fn series_batch_to_write(index: usize, batch: SeriesBatch) -> Result<SeriesWrite, ConvertError> {
    let rows = batch.ts.len();
    let mut columns = Vec::with_capacity(batch.columns.len());
    for column in batch.columns {
        let at = || ColumnAt::new(index, &batch.table, &batch.series, &column.family, &column.name);
        let values = match column.values {
            None => return Err(ConvertError::MissingValues { at: at() }),
            Some(Values::F64Values(v)) => ColumnValues::F64(v.values),
            Some(Values::I64Values(v)) => ColumnValues::I64(v.values),
            Some(Values::BoolValues(v)) => ColumnValues::Bool(v.values),
            Some(Values::StringValues(v)) => ColumnValues::String(v.values),
        };
        if values.len() != rows {
            return Err(ConvertError::ValuesLength { at: at(), expected: rows, got: values.len() });
        }
        let validity = bitmap::unpack(&column.validity, rows).map_err(|e| match e {
            BitmapError::Length { rows, expected, got } => {
                ConvertError::ValidityLength { at: at(), rows, expected, got }
            }
            BitmapError::Padding { row, rows } => ConvertError::ValidityPadding { at: at(), row, rows },
        })?;
        let nulls = bitmap::unpack(&column.nulls, rows).map_err(|e| match e {
            BitmapError::Length { rows, expected, got } => ConvertError::NullsLength { at: at(), rows, expected, got },
            BitmapError::Padding { row, rows } => ConvertError::NullsPadding { at: at(), row, rows },
        })?;
        // `unpack` reads an empty bitmap as "every row" and answers `None` for all bits set.
        let nulls = match nulls {
            None if column.nulls.is_empty() => None,
            None => Some(vec![true; rows]),
            Some(flags) => flags.contains(&true).then_some(flags),
        };
        columns.push(ColumnWrite { family: column.family, column: column.name, values, validity, nulls });
    }
    Ok(SeriesWrite { table: batch.table, series: batch.series, ts: batch.ts, columns })
}
