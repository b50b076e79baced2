//! The per-request limits on what a write becomes: distinct series
//! (`storage.max_series_per_request`) and cells, i.e. present values
//! (`storage.max_cells_per_request`). Admission counts encoded bytes, but a request of short
//! series keys and sparse columns grows many times its size in memtables and indexes (issue 20,
//! finding 7), so every write path counts these before it applies anything: gRPC `Write`,
//! `WriteStream` and `ProducerStream` right after decoding, before the conversion builds the
//! engine batch; line protocol and OTLP right after mapping. A refusal is
//! `RESOURCE_EXHAUSTED` (HTTP 413) naming the limit and its key, and changes nothing.

use std::collections::HashSet;

use isobar_proto::v1::{WriteRequest, column};
use isobar_storage::{InvalidInput, Limits, WriteBatch};

/// Checks a decoded gRPC write request against `limits` without converting it. Cells of a
/// columnar batch are the rows its validity bitmap marks (every row without one); counting
/// stops as soon as a limit is passed.
pub fn check_request(request: &WriteRequest, limits: &Limits) -> Result<(), InvalidInput> {
    let mut counter = Counter::new(limits);
    for batch in &request.batches {
        counter.series(&batch.table, &batch.series)?;
        for col in &batch.columns {
            let present = if col.validity.is_empty() {
                slots(col.values.as_ref()).min(batch.ts.len())
            } else {
                col.validity.iter().map(|b| b.count_ones() as usize).sum::<usize>()
            };
            counter.cells(present)?;
        }
    }
    for row in &request.rows {
        counter.series(&row.table, &row.series)?;
        counter.cells(row.cells.iter().filter(|c| c.value.is_some()).count())?;
    }
    Ok(())
}

/// Checks a mapped batch (line protocol, OTLP) against `limits`.
pub fn check_batch(batch: &WriteBatch, limits: &Limits) -> Result<(), InvalidInput> {
    let mut counter = Counter::new(limits);
    for write in &batch.series {
        counter.series(&write.table, &write.series)?;
        counter.cells(write.points())?;
    }
    Ok(())
}

/// Value slots of a column.
fn slots(values: Option<&column::Values>) -> usize {
    match values {
        Some(column::Values::F64Values(v)) => v.values.len(),
        Some(column::Values::I64Values(v)) => v.values.len(),
        Some(column::Values::BoolValues(v)) => v.values.len(),
        Some(column::Values::StringValues(v)) => v.values.len(),
        None => 0,
    }
}

/// Distinct series and cells seen so far.
struct Counter<'a> {
    seen: HashSet<(&'a str, &'a str)>,
    cells: u64,
    max_series: usize,
    max_cells: u64,
}

impl<'a> Counter<'a> {
    fn new(limits: &Limits) -> Self {
        Self {
            seen: HashSet::new(),
            cells: 0,
            max_series: limits.max_series_per_request,
            max_cells: limits.max_cells_per_request,
        }
    }

    fn series(&mut self, table: &'a str, series: &'a str) -> Result<(), InvalidInput> {
        if self.seen.insert((table, series)) && self.seen.len() > self.max_series {
            return Err(InvalidInput::TooManySeries { series: self.seen.len(), max: self.max_series });
        }
        Ok(())
    }

    fn cells(&mut self, n: usize) -> Result<(), InvalidInput> {
        self.cells = self.cells.saturating_add(n as u64);
        if self.cells > self.max_cells {
            return Err(InvalidInput::TooManyCells { cells: self.cells, max: self.max_cells });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use isobar_proto::v1::{Cell, Column, DoubleValues, Row, SeriesBatch, cell};

    use super::*;

    fn limits(series: usize, cells: u64) -> Limits {
        Limits { max_series_per_request: series, max_cells_per_request: cells, ..Limits::default() }
    }

    fn batch(series: &str, rows: usize, validity: Vec<u8>) -> SeriesBatch {
        SeriesBatch {
            table: "t".into(),
            series: series.into(),
            ts: (0..rows as i64).collect(),
            columns: vec![Column {
                family: "f".into(),
                name: "v".into(),
                values: Some(column::Values::F64Values(DoubleValues { values: vec![0.0; rows] })),
                validity,
                nulls: Vec::new(),
            }],
        }
    }

    fn row(series: &str, cells: usize) -> Row {
        let cell =
            Cell { family: "f".into(), column: "v".into(), value: Some(cell::Value::F64Value(1.0)), null: false };
        Row { table: "t".into(), series: series.into(), ts: 1, cells: vec![cell; cells] }
    }

    #[test]
    fn distinct_series_are_counted_over_batches_and_rows() {
        let request = WriteRequest {
            batches: vec![batch("a", 1, vec![]), batch("b", 1, vec![])],
            rows: vec![row("a", 1), row("c", 1), row("c", 1)],
            ..Default::default()
        };
        assert!(check_request(&request, &limits(3, 100)).is_ok(), "a, b, c");
        let err = check_request(&request, &limits(2, 100)).expect_err("three series");
        assert!(matches!(err, InvalidInput::TooManySeries { series: 3, max: 2 }), "{err}");
        assert!(err.to_string().contains("storage.max_series_per_request"), "{err}");
    }

    #[test]
    fn cells_are_present_values_only() {
        // 16 rows, the bitmap marks 3 of them; a row with 4 cells.
        let request = WriteRequest {
            batches: vec![batch("a", 16, vec![0b0000_0101, 0b1000_0000])],
            rows: vec![row("b", 4)],
            ..Default::default()
        };
        assert!(check_request(&request, &limits(10, 7)).is_ok());
        let err = check_request(&request, &limits(10, 6)).expect_err("seven cells");
        assert!(matches!(err, InvalidInput::TooManyCells { cells: 7, max: 6 }), "{err}");
        assert!(err.to_string().contains("storage.max_cells_per_request"), "{err}");
        let full = WriteRequest { batches: vec![batch("a", 16, vec![])], ..Default::default() };
        assert!(matches!(check_request(&full, &limits(10, 15)), Err(InvalidInput::TooManyCells { cells: 16, .. })));
    }

    #[test]
    fn mapped_batches_are_counted_the_same_way() {
        let write = isobar_storage::SeriesWrite::new("t", "a", vec![1, 2]).column(
            "f",
            "v",
            isobar_storage::ColumnValues::F64(vec![1.0, 2.0]),
        );
        let mut other = write.clone();
        other.series = "b".into();
        let batch = WriteBatch { series: vec![write, other] };
        assert!(check_batch(&batch, &limits(2, 4)).is_ok());
        assert!(matches!(check_batch(&batch, &limits(1, 4)), Err(InvalidInput::TooManySeries { .. })));
        assert!(matches!(check_batch(&batch, &limits(2, 3)), Err(InvalidInput::TooManyCells { .. })));
    }
}
