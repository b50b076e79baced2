//! Workload columns cut like the SSTable writer cuts them: pages of [`PAGE_ROWS`] consecutive rows
//! that hold several series one after the other, each series time-sorted.
//!
//! The values are the real workloads of [`isobar_workload`] (the same data every other benchmark
//! writes), so the encoding figures describe what an SSTable of that workload stores.

use isobar_storage::{ColumnType, ColumnValues};
use isobar_workload::Spec;

/// Rows per page, as the SSTable writer cuts them.
pub const PAGE_ROWS: usize = 8192;

/// One workload column over `rows` rows.
#[derive(Clone, Debug)]
pub enum Values {
    /// A float column.
    F64(Vec<f64>),
    /// An integer column.
    I64(Vec<i64>),
}

/// The columns of a workload over a fixed number of rows, series after series.
#[derive(Clone, Debug)]
pub struct Columns {
    /// Timestamps, one per row.
    pub ts: Vec<i64>,
    /// `(column name, type, values)` in the workload's column order.
    pub columns: Vec<(&'static str, ColumnType, Values)>,
}

/// The first `rows` rows of `spec`'s workload when every series holds `series_len` samples:
/// series 0's history, then series 1's, and so on (as many series as `rows` needs).
///
/// # Panics
///
/// If `series_len` is zero, or the workload produces a column type other than `f64` or `i64`
/// (neither workload does).
pub fn columns(spec: &Spec, rows: usize, series_len: usize) -> Columns {
    assert!(series_len > 0, "series_len must be positive");
    let spec = spec.clone().timestamps(series_len).series(rows.div_ceil(series_len));
    let mut out = Columns {
        ts: Vec::with_capacity(rows + series_len),
        columns: spec
            .columns()
            .iter()
            .map(|c| {
                let values = match c.ty {
                    ColumnType::F64 => Values::F64(Vec::with_capacity(rows + series_len)),
                    ColumnType::I64 => Values::I64(Vec::with_capacity(rows + series_len)),
                    other => panic!("workload column {} has type {other:?}", c.name),
                };
                (c.name, c.ty, values)
            })
            .collect(),
    };
    for index in 0..spec.series {
        let history = spec.series_history(index);
        out.ts.extend_from_slice(&history.ts);
        for ((name, _, values), written) in out.columns.iter_mut().zip(&history.columns) {
            match (values, &written.values) {
                (Values::F64(all), ColumnValues::F64(v)) => all.extend_from_slice(v),
                (Values::I64(all), ColumnValues::I64(v)) => all.extend_from_slice(v),
                _ => panic!("column {name}: the series history's type differs from the spec's"),
            }
        }
    }
    out.ts.truncate(rows);
    for (_, _, values) in &mut out.columns {
        match values {
            Values::F64(v) => v.truncate(rows),
            Values::I64(v) => v.truncate(rows),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_concatenate_whole_series_histories() {
        let spec = Spec::weather();
        let cols = columns(&spec, 250, 100);
        assert_eq!(cols.ts.len(), 250);
        assert_eq!(cols.columns.len(), spec.columns().len());
        // Each series restarts at the workload's first timestamp.
        assert_eq!(cols.ts[0], spec.ts_at(0));
        assert_eq!(cols.ts[99], spec.ts_at(99));
        assert_eq!(cols.ts[100], spec.ts_at(0));
        let second = spec.clone().timestamps(100).series(3).series_history(1);
        let ColumnValues::F64(expected) = &second.columns[0].values else { panic!("weather is f64") };
        let Values::F64(got) = &cols.columns[0].2 else { panic!("weather is f64") };
        assert_eq!(&got[100..200], expected.as_slice());
        for (_, _, v) in &cols.columns {
            let len = match v {
                Values::F64(v) => v.len(),
                Values::I64(v) => v.len(),
            };
            assert_eq!(len, 250);
        }
    }
}
