//! The rows of one series in one memtable: appended as they come, sorted and merged when read.

use std::sync::Arc;

use arrow_buffer::ScalarBuffer;

use super::column::ColumnBuffer;
use crate::batch::ColumnValues;
use crate::run::Run;
use crate::schema::{ColumnId, ColumnType, merge_partner};
use crate::selector::TimeRange;

/// Rows of one series, in arrival order. Writes only append, so a write costs a few
/// `extend_from_slice` calls; the (rare) out-of-order or duplicate rows are sorted out when the
/// buffer is read, not when it is written. This is the shape of GreptimeDB's time-series
/// memtable and InfluxDB's per-series buffers; it beats a row-per-entry skiplist for ingest because
/// sensor data arrives almost sorted.
#[derive(Debug, Default)]
pub(crate) struct SeriesBuffer {
    ts: Vec<i64>,
    seq: Vec<u64>,
    /// Columns in ascending id order; every buffer has `ts.len()` rows.
    columns: Vec<(ColumnId, ColumnBuffer)>,
    /// True while `ts` is strictly increasing in arrival order (no sort or merge needed to read).
    sorted: bool,
}

/// A column of a write: id, type, values and optional validity.
#[derive(Clone, Copy, Debug)]
pub struct ColumnInput<'a> {
    /// Column id within the family.
    pub id: ColumnId,
    /// Its type (matches `values`).
    pub ty: ColumnType,
    /// One value per row.
    pub values: &'a ColumnValues,
    /// Validity per row; `None` = every row has a value.
    pub validity: Option<&'a [bool]>,
}

impl SeriesBuffer {
    pub(crate) fn new() -> Self {
        Self { sorted: true, ..Self::default() }
    }

    /// Appends rows; returns the growth of the heap memory the buffer holds (allocated capacity,
    /// not just the bytes written, so that vector growth slack counts against the budget).
    pub(crate) fn append(&mut self, ts: &[i64], seq: u64, columns: &[ColumnInput<'_>]) -> usize {
        let held = self.heap_bytes();
        self.append_rows(ts, seq, columns);
        self.heap_bytes().saturating_sub(held)
    }

    /// Heap memory held by the buffer.
    fn heap_bytes(&self) -> usize {
        let columns: usize = self.columns.iter().map(|(_, c)| c.heap_bytes()).sum();
        (self.ts.capacity() + self.seq.capacity()) * 8 + columns
    }

    fn append_rows(&mut self, ts: &[i64], seq: u64, columns: &[ColumnInput<'_>]) {
        let before = self.ts.len();
        let n = ts.len();
        if self.sorted {
            let prev = self.ts.last().copied();
            let in_order = ts.iter().zip(ts.iter().skip(1)).all(|(a, b)| a < b);
            self.sorted = in_order && prev.is_none_or(|p| ts.first().is_none_or(|f| *f > p));
        }
        self.ts.extend_from_slice(ts);
        self.seq.resize(before + n, seq);
        // Fast path: the same columns as every earlier write of this series (the usual case).
        let same_columns = self.columns.len() == columns.len()
            && self.columns.iter().zip(columns).all(|((id, _), input)| *id == input.id);
        if same_columns {
            for ((_, col), input) in self.columns.iter_mut().zip(columns) {
                col.push(input.values, input.validity);
            }
            return;
        }
        for input in columns {
            let pos = match self.columns.binary_search_by_key(&input.id, |(id, _)| *id) {
                Ok(pos) => pos,
                Err(pos) => {
                    self.columns.insert(pos, (input.id, ColumnBuffer::new(input.ty, before)));
                    pos
                }
            };
            if let Some((_, col)) = self.columns.get_mut(pos) {
                col.push(input.values, input.validity);
            }
        }
        for (_, col) in &mut self.columns {
            let missing = (before + n).saturating_sub(col.len());
            if missing > 0 {
                col.push_nulls(missing);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ts.len()
    }

    /// Smallest and largest ts buffered (in arrival order, so found by a pass), if any.
    pub(crate) fn ts_bounds(&self) -> Option<(i64, i64)> {
        let first = *self.ts.first()?;
        if self.sorted {
            return Some((first, *self.ts.last()?));
        }
        Some(self.ts.iter().fold((first, first), |(lo, hi), t| (lo.min(*t), hi.max(*t))))
    }

    /// The ids of the columns this series has, ascending.
    pub(crate) fn column_ids(&self) -> impl Iterator<Item = ColumnId> + '_ {
        self.columns.iter().map(|(id, _)| *id)
    }

    /// The buffer of column `id`, if this series has it.
    fn column(&self, id: ColumnId) -> Option<&ColumnBuffer> {
        self.columns.binary_search_by_key(&id, |(c, _)| *c).ok().and_then(|pos| self.columns.get(pos)).map(|(_, c)| c)
    }

    /// The rows with `seq <= max_seq` and `ts` in `range`, of the columns in `ids` (ascending), as
    /// a run: sorted by ts, rows with equal ts merged cell by cell (the highest seq with a value
    /// or an explicit null wins). `keep(ts, seq)` drops rows covered by tombstones before merging, so that a tombstone
    /// between two writes of the same row removes only the older cells.
    pub(crate) fn visible_run(
        &self,
        series: &Arc<str>,
        range: TimeRange,
        max_seq: u64,
        ids: Option<&[ColumnId]>,
        keep: &dyn Fn(i64, u64) -> bool,
    ) -> Option<Run> {
        let selected = |&(id, _): &&(ColumnId, ColumnBuffer)| ids.is_none_or(|ids| ids.binary_search(id).is_ok());
        let all_visible = self.seq.last().is_none_or(|s| *s <= max_seq);
        if self.sorted && all_visible {
            let start = self.ts.partition_point(|t| *t < range.from);
            let end = self.ts.partition_point(|t| *t < range.to);
            let (ts, seq) = (self.ts.get(start..end).unwrap_or_default(), self.seq.get(start..end).unwrap_or_default());
            if ts.iter().zip(seq).all(|(t, s)| keep(*t, *s)) {
                if start >= end {
                    return None;
                }
                return Some(Run {
                    series: series.clone(),
                    ts: ScalarBuffer::from(ts.to_vec()),
                    seq: ScalarBuffer::from(seq.to_vec()),
                    columns: self
                        .columns
                        .iter()
                        .filter(selected)
                        .map(|(id, c)| (*id, c.slice_to_array(start, end)))
                        .collect(),
                });
            }
        }
        // General path: pick visible rows, sort by (ts, seq), merge equal timestamps.
        // (ts, seq, row) of every visible row.
        let mut rows: Vec<(i64, u64, usize)> = self
            .ts
            .iter()
            .zip(&self.seq)
            .enumerate()
            .filter(|(_, (t, s))| **s <= max_seq && range.contains(**t) && keep(**t, **s))
            .map(|(i, (t, s))| (*t, *s, i))
            .collect();
        if rows.is_empty() {
            return None;
        }
        rows.sort_by_key(|&(t, s, _)| (t, s));
        // Rows of equal ts, oldest first (chunk_by never yields an empty group).
        let groups: Vec<&[(i64, u64, usize)]> = rows.chunk_by(|a, b| a.0 == b.0).collect();
        let ts: Vec<i64> = groups.iter().filter_map(|g| g.first()).map(|r| r.0).collect();
        let seq: Vec<u64> = groups.iter().filter_map(|g| g.last()).map(|r| r.1).collect();
        let columns = self
            .columns
            .iter()
            .filter(selected)
            .map(|(id, col)| {
                // A row decides when it has a cell of the column or of its partner (an explicit null).
                let partner = self.column(merge_partner(*id));
                let decides = |i: usize| col.is_valid(i) || partner.is_some_and(|p| p.is_valid(i));
                let picks: Vec<Option<usize>> =
                    groups.iter().map(|g| g.iter().rev().map(|r| r.2).find(|&i| decides(i))).collect();
                (*id, col.gather_to_array(&picks))
            })
            .collect();
        Some(Run { series: series.clone(), ts: ScalarBuffer::from(ts), seq: ScalarBuffer::from(seq), columns })
    }
}
