//! [`Part`]: one span of one series ready for output, and the helpers that build parts
//! (joining families on `ts`) and assemble them into record batches.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_buffer::ScalarBuffer;
use arrow_schema::SchemaRef;
use arrow_select::concat::concat;

use crate::error::Result;
use crate::run::Run;
use crate::selector::TimeRange;

/// The rows of one span of a series, ready for output: `ts` then the projected columns.
pub(crate) struct Part {
    pub(crate) series: Arc<str>,
    pub(crate) rows: usize,
    pub(crate) columns: Vec<ArrayRef>,
    /// Spans of the series still to read after this one (the next one last).
    pub(crate) more: Vec<TimeRange>,
}

impl Part {
    /// Rows `offset..offset + len` (zero-copy), without the spans to read.
    pub(crate) fn slice(&self, offset: usize, len: usize) -> Part {
        let columns = self.columns.iter().map(|c| c.slice(offset, len)).collect();
        Part { series: self.series.clone(), rows: len, columns, more: Vec::new() }
    }
}

/// One record batch from consecutive parts: the `series` column is built once for the whole
/// batch; the other columns are used as they are when there is one part, concatenated otherwise.
pub(crate) fn assemble(schema: &SchemaRef, parts: &[Part]) -> Result<RecordBatch> {
    let rows = parts.iter().map(|p| p.rows).sum();
    let bytes = parts.iter().map(|p| p.rows * p.series.len()).sum();
    let mut keys = StringBuilder::with_capacity(rows, bytes);
    for p in parts {
        for _ in 0..p.rows {
            keys.append_value(p.series.as_ref());
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    columns.push(Arc::new(keys.finish()));
    match parts {
        [one] => columns.extend(one.columns.iter().cloned()),
        _ => {
            for i in 0..schema.fields().len() - 1 {
                let arrays: Vec<&dyn Array> =
                    parts.iter().filter_map(|p| p.columns.get(i)).map(|a| a.as_ref()).collect();
                columns.push(concat(&arrays)?);
            }
        }
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Sorted union of the timestamps of the runs present (zero-copy when only one is).
pub(crate) fn union_ts(runs: &[Option<Run>]) -> Option<ScalarBuffer<i64>> {
    let present: Vec<&Run> = runs.iter().flatten().collect();
    match present.as_slice() {
        [] => None,
        [one] => Some(one.ts.clone()),
        [first, rest @ ..] if rest.iter().all(|r| r.ts == first.ts) => Some(first.ts.clone()),
        many => {
            let mut ts: Vec<i64> = many.iter().flat_map(|r| r.ts.iter().copied()).collect();
            ts.sort_unstable();
            ts.dedup();
            Some(ts.into())
        }
    }
}

/// For each time in `all`, its row in `own` (null where `own` has no row).
pub(crate) fn positions(all: &[i64], own: &[i64]) -> UInt32Array {
    let mut j = 0;
    all.iter()
        .map(|t| {
            while own.get(j).is_some_and(|o| o < t) {
                j += 1;
            }
            own.get(j).is_some_and(|o| o == t).then_some(j as u32)
        })
        .collect()
}
