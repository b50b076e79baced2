//! The writer's page buffer: rows gathered for the page being built, and the page once complete.

use arrow_array::{Array, ArrayRef, UInt32Array, new_null_array};

use super::index::ChunkMeta;
use super::meta::ColumnSchema;
use super::stats::ColumnStats;
use crate::encoding::EncodingError;
use crate::run::Run;

/// Rows gathered for the current page: timestamps, sequence numbers (bit-cast to `i64`) and,
/// per schema column, the pieces contributed by each run (null pieces where a run lacks the
/// column), concatenated when the page is complete.
#[derive(Debug)]
pub(super) struct PageBuffer {
    ts: Vec<i64>,
    seq: Vec<i64>,
    columns: Vec<Vec<ArrayRef>>,
    /// Per column, the first piece added by the append in progress.
    borrowed: usize,
}

/// A complete page, ready to encode.
#[derive(Debug)]
pub(super) struct Page {
    /// Timestamps.
    pub ts: Vec<i64>,
    /// Sequence numbers bit-cast to `i64`.
    pub seq: Vec<i64>,
    /// One array per schema column.
    pub columns: Vec<ArrayRef>,
}

impl PageBuffer {
    pub(super) fn new(columns: &[ColumnSchema]) -> PageBuffer {
        PageBuffer { ts: Vec::new(), seq: Vec::new(), columns: vec![Vec::new(); columns.len()], borrowed: 0 }
    }

    /// Rows gathered.
    pub(super) fn len(&self) -> usize {
        self.ts.len()
    }

    /// Adds all rows of `part` (which fit in the page).
    pub(super) fn push(&mut self, part: &Run, schema: &[ColumnSchema]) {
        self.ts.extend_from_slice(&part.ts);
        self.seq.extend(part.seq.iter().map(|s| *s as i64));
        for (pieces, col) in self.columns.iter_mut().zip(schema) {
            pieces.push(part.column(col.id).cloned().unwrap_or_else(|| null_column(col, part.len())));
        }
    }

    /// Replaces the pieces added since the last call that are proper slices of a run of
    /// `run_len` rows by owned copies, so the buffer never keeps a caller's large arrays alive.
    pub(super) fn own_borrowed(&mut self, run_len: usize) {
        for pieces in &mut self.columns {
            for piece in pieces.iter_mut().skip(self.borrowed) {
                if piece.len() < run_len {
                    *piece = owned_copy(piece);
                }
            }
        }
        self.borrowed = self.columns.first().map_or(0, Vec::len);
    }

    /// Empties the buffer into a [`Page`].
    pub(super) fn take(&mut self) -> Result<Page, (usize, EncodingError)> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for (i, pieces) in self.columns.iter_mut().enumerate() {
            let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
            let array = arrow_select::concat::concat(&refs)
                .map_err(|e| (i, EncodingError::Assemble { reason: e.to_string() }))?;
            columns.push(array);
            pieces.clear();
        }
        self.borrowed = 0;
        Ok(Page { ts: std::mem::take(&mut self.ts), seq: std::mem::take(&mut self.seq), columns })
    }
}

impl Page {
    /// Fills in the time, sequence and column statistics of `chunk`, which lies in this page.
    pub(super) fn fill_stats(&self, chunk: &mut ChunkMeta) {
        let (start, len) = (chunk.first_row as usize, chunk.rows as usize);
        let ts = self.ts.get(start..start + len).unwrap_or_default();
        chunk.min_ts = ts.first().copied().unwrap_or(0);
        chunk.max_ts = ts.last().copied().unwrap_or(0);
        let seq = self.seq.get(start..start + len).unwrap_or_default().iter().map(|s| *s as u64);
        (chunk.min_seq, chunk.max_seq) = seq.fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
        chunk.columns = self.columns.iter().map(|a| ColumnStats::of(a.slice(start, len).as_ref())).collect();
    }
}

/// A copy of `array` that owns its memory (no slice of a larger buffer).
fn owned_copy(array: &ArrayRef) -> ArrayRef {
    let indices = UInt32Array::from_iter_values(0..array.len() as u32);
    arrow_select::take::take(array.as_ref(), &indices, None).unwrap_or_else(|_| array.clone())
}

/// An all-null column of `schema`'s type with `len` rows.
fn null_column(schema: &ColumnSchema, len: usize) -> ArrayRef {
    new_null_array(&schema.ty.arrow_type(), len)
}
