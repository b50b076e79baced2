//! Engine write batches to wire requests (for clients: the CLI, the Rust client, the load
//! generator).

use isobar_proto::v1::{
    BoolValues, Column, DoubleValues, Int64Values, SeriesBatch, StringValues, WriteRequest, column::Values,
};
use isobar_storage::{ColumnValues, SeriesWrite, WriteBatch};

use crate::bitmap;

/// Converts `batch` into a request of columnar batches (no rows), moving its vectors.
pub fn batch_to_request(batch: WriteBatch) -> WriteRequest {
    WriteRequest { batches: batch.series.into_iter().map(series_write_to_batch).collect(), ..Default::default() }
}

/// Converts one series write into a wire batch; `validity: None` becomes an empty bitmap.
pub fn series_write_to_batch(write: SeriesWrite) -> SeriesBatch {
    let columns = write
        .columns
        .into_iter()
        .map(|c| Column {
            family: c.family,
            name: c.column,
            values: Some(match c.values {
                ColumnValues::F64(values) => Values::F64Values(DoubleValues { values }),
                ColumnValues::I64(values) => Values::I64Values(Int64Values { values }),
                ColumnValues::Bool(values) => Values::BoolValues(BoolValues { values }),
                ColumnValues::String(values) => Values::StringValues(StringValues { values }),
            }),
            validity: c.validity.as_deref().map(bitmap::pack).unwrap_or_default(),
            nulls: c.nulls.as_deref().map(bitmap::pack).unwrap_or_default(),
        })
        .collect();
    SeriesBatch { table: write.table, series: write.series, ts: write.ts, columns }
}
