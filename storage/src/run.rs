//! [`Run`]: sorted, columnar rows of one series within one column family.
//!
//! A run is what the parts of the engine hand each other: a memtable snapshot yields runs, an
//! SSTable is written from runs and read back as runs, the read path merges runs, and compaction
//! rewrites runs. Inside a run, `ts` is strictly increasing (duplicates were already merged) and
//! every column has exactly one slot per row; an absent cell is a null slot. Buffers are Arrow
//! buffers, so slicing a run is free and scans hand the same memory to Arrow record batches.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, new_null_array};
use arrow_buffer::ScalarBuffer;

use crate::schema::{ColumnId, ColumnType};
use crate::selector::TimeRange;

/// Sorted columnar rows of one series in one family.
#[derive(Clone, Debug)]
pub struct Run {
    /// The series key.
    pub series: Arc<str>,
    /// Timestamps, strictly increasing.
    pub ts: ScalarBuffer<i64>,
    /// Sequence number of the write that produced each row; decides last-write-wins.
    pub seq: ScalarBuffer<u64>,
    /// Columns present in this run, in ascending id order; each has `ts.len()` slots.
    pub columns: Vec<(ColumnId, ArrayRef)>,
}

impl Run {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when the run has no rows.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The column with `id`, if this run has it.
    pub fn column(&self, id: ColumnId) -> Option<&ArrayRef> {
        self.columns.iter().find(|(c, _)| *c == id).map(|(_, a)| a)
    }

    /// The column with `id`, or an all-null column of type `ty` when this run lacks it.
    pub fn column_or_null(&self, id: ColumnId, ty: ColumnType) -> ArrayRef {
        self.column(id).cloned().unwrap_or_else(|| new_null_array(&ty.arrow_type(), self.len()))
    }

    /// Rows `offset..offset + len` (zero-copy).
    pub fn slice(&self, offset: usize, len: usize) -> Run {
        Run {
            series: self.series.clone(),
            ts: self.ts.slice(offset, len),
            seq: self.seq.slice(offset, len),
            columns: self.columns.iter().map(|(id, a)| (*id, a.slice(offset, len))).collect(),
        }
    }

    /// The rows whose timestamp lies in `range` (zero-copy; `ts` is sorted).
    pub fn slice_time(&self, range: TimeRange) -> Run {
        let start = self.ts.partition_point(|t| *t < range.from);
        let end = self.ts.partition_point(|t| *t < range.to);
        self.slice(start, end.saturating_sub(start))
    }

    /// Keeps only the columns in `ids` (which must be ascending).
    pub fn project(mut self, ids: &[ColumnId]) -> Run {
        self.columns.retain(|(id, _)| ids.binary_search(id).is_ok());
        self
    }

    /// Smallest and largest timestamp, if any row exists.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        Some((*self.ts.first()?, *self.ts.last()?))
    }

    /// Number of non-null cells (points); explicit nulls (null-marker cells) are not points.
    pub fn points(&self) -> usize {
        self.columns
            .iter()
            .filter(|(id, _)| crate::schema::marked_column(*id).is_none())
            .map(|(_, a)| a.len() - a.null_count())
            .sum()
    }

    /// Checks the invariants; used by tests and debug assertions.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.seq.len() != self.ts.len() {
            return Err(format!("seq has {} rows, ts {}", self.seq.len(), self.ts.len()));
        }
        if let Some((a, b)) = self.ts.iter().zip(self.ts.iter().skip(1)).find(|(a, b)| a >= b) {
            return Err(format!("ts not strictly increasing: {a} then {b}"));
        }
        if self.columns.iter().zip(self.columns.iter().skip(1)).any(|(a, b)| a.0 >= b.0) {
            return Err("column ids not ascending".into());
        }
        for (id, a) in &self.columns {
            if a.len() != self.ts.len() {
                return Err(format!("column {id} has {} rows, ts {}", a.len(), self.ts.len()));
            }
        }
        Ok(())
    }
}
