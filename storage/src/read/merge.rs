//! Merging runs of one series from several sources with last-write-wins per cell.
//!
//! Sources are the memtables and SSTables of one family. Each source's run is sorted and has at
//! most one row per timestamp. Where several sources hold the same `(series, ts)`, each cell takes
//! the value of the row with the highest sequence number that has a value for it, so a sparse
//! write of one column does not erase the others (as Cassandra and Bigtable resolve cells). An
//! explicit null is a cell of the column's null marker ([`crate::schema::null_marker`]); a column
//! and its marker decide together, so the newer of a value and an explicit null wins.
//! Tombstones must be applied to every source before merging.
//!
//! Disjoint runs are concatenated; overlapping ones go through the fast path of
//! [`super::merge_plan`] (one walk over the timestamps, columns copied in stretches), and the
//! general merge below (sort every row, gather every cell) is kept for columns of an unexpected
//! type and as the model the fast path is tested against.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, new_null_array};
use arrow_buffer::ScalarBuffer;
use arrow_select::concat::concat;
use arrow_select::filter::filter;
use arrow_select::interleave::interleave;

use super::merge_plan::merge_sorted;
use crate::run::Run;
use crate::schema::{ColumnId, ColumnType, merge_partner};

/// Merges `runs` (all of the same series) into one run; `types` gives the type of every column
/// id that may appear. Returns `None` when there are no rows.
pub fn merge_runs(mut runs: Vec<Run>, types: &dyn Fn(ColumnId) -> Option<ColumnType>) -> Option<Run> {
    runs.retain(|r| !r.is_empty());
    match runs.len() {
        0 => return None,
        1 => return runs.pop(),
        _ => {}
    }
    let mut ids: Vec<ColumnId> = runs.iter().flat_map(|r| r.columns.iter().map(|(id, _)| *id)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.retain(|id| types(*id).is_some());
    runs.sort_by_key(|r| r.ts.first().copied());
    let disjoint = runs.iter().zip(runs.iter().skip(1)).all(|(a, b)| a.ts.last() < b.ts.first());
    if disjoint {
        return Some(concat_runs(&runs, &ids, types));
    }
    merge_sorted(&runs, &ids, types).or_else(|| Some(interleave_runs(&runs, &ids, types)))
}

fn concat_runs(runs: &[Run], ids: &[ColumnId], types: &dyn Fn(ColumnId) -> Option<ColumnType>) -> Run {
    let ts: Vec<i64> = runs.iter().flat_map(|r| r.ts.iter().copied()).collect();
    let seq: Vec<u64> = runs.iter().flat_map(|r| r.seq.iter().copied()).collect();
    let columns = ids
        .iter()
        .filter_map(|id| {
            let ty = types(*id)?;
            let parts: Vec<ArrayRef> = runs.iter().map(|r| r.column_or_null(*id, ty)).collect();
            let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            concat(&refs).ok().map(|a| (*id, a))
        })
        .collect();
    Run { series: series_of(runs), ts: ScalarBuffer::from(ts), seq: ScalarBuffer::from(seq), columns }
}

/// The series of the runs being merged (all runs are of one series).
fn series_of(runs: &[Run]) -> std::sync::Arc<str> {
    runs.first().map(|r| r.series.clone()).unwrap_or_default()
}

/// The general merge: every row sorted by `(ts, seq)`, every cell gathered on its own. Used
/// when [`merge_sorted`] declines (a source column of another type, which it drops) and in tests
/// as the model the fast path must agree with.
pub(super) fn interleave_runs(runs: &[Run], ids: &[ColumnId], types: &dyn Fn(ColumnId) -> Option<ColumnType>) -> Run {
    // Every row of every run, ordered by (ts, seq): equal timestamps end up adjacent, newest last.
    let mut rows: Vec<(i64, u64, usize, usize)> = Vec::with_capacity(runs.iter().map(Run::len).sum());
    for (r, run) in runs.iter().enumerate() {
        rows.extend(run.ts.iter().zip(run.seq.iter()).enumerate().map(|(i, (t, s))| (*t, *s, r, i)));
    }
    rows.sort_unstable_by_key(|&(t, s, _, _)| (t, s));
    // Rows of equal ts (chunk_by never yields an empty group).
    let groups: Vec<&[(i64, u64, usize, usize)]> = rows.chunk_by(|a, b| a.0 == b.0).collect();
    let ts: Vec<i64> = groups.iter().filter_map(|g| g.first()).map(|r| r.0).collect();
    let seq: Vec<u64> = groups.iter().filter_map(|g| g.last()).map(|r| r.1).collect();
    let null_slot = runs.len();
    let columns = ids
        .iter()
        .filter_map(|id| {
            let ty = types(*id)?;
            let mut sources: Vec<ArrayRef> = runs.iter().map(|r| r.column_or_null(*id, ty)).collect();
            sources.push(new_null_array(&ty.arrow_type(), 1));
            // The newest row with a cell of the column or of its partner (an explicit null).
            let partners: Vec<Option<&ArrayRef>> = runs.iter().map(|r| r.column(merge_partner(*id))).collect();
            let decides = |r: usize, i: usize| {
                sources.get(r).is_some_and(|s| s.is_valid(i))
                    || partners.get(r).copied().flatten().is_some_and(|p| p.is_valid(i))
            };
            let picks: Vec<(usize, usize)> = groups
                .iter()
                .map(|g| {
                    g.iter().rev().find(|&&(_, _, r, i)| decides(r, i)).map_or((null_slot, 0), |&(_, _, r, i)| (r, i))
                })
                .collect();
            let refs: Vec<&dyn Array> = sources.iter().map(|a| a.as_ref()).collect();
            interleave(&refs, &picks).ok().map(|a| (*id, a))
        })
        .collect();
    Run { series: series_of(runs), ts: ScalarBuffer::from(ts), seq: ScalarBuffer::from(seq), columns }
}

/// Keeps the rows of `run` for which `keep(ts, seq)` holds.
pub(crate) fn filter_rows(run: Run, keep: impl Fn(i64, u64) -> bool) -> Run {
    let mask: Vec<bool> = run.ts.iter().zip(run.seq.iter()).map(|(t, s)| keep(*t, *s)).collect();
    keep_rows(run, mask)
}

/// Keeps the rows of `run` whose entry in `mask` (one per row) is true.
pub(crate) fn keep_rows(run: Run, mask: Vec<bool>) -> Run {
    if mask.iter().all(|k| *k) {
        return run;
    }
    let ts: Vec<i64> = run.ts.iter().zip(&mask).filter(|(_, k)| **k).map(|(t, _)| *t).collect();
    let seq: Vec<u64> = run.seq.iter().zip(&mask).filter(|(_, k)| **k).map(|(s, _)| *s).collect();
    let predicate = BooleanArray::from(mask);
    let columns =
        run.columns.iter().filter_map(|(id, a)| filter(a.as_ref(), &predicate).ok().map(|a| (*id, a))).collect();
    Run { series: Arc::clone(&run.series), ts: ScalarBuffer::from(ts), seq: ScalarBuffer::from(seq), columns }
}

#[cfg(test)]
mod tests {
    use arrow_array::Float64Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;

    use super::*;

    fn run(ts: &[i64], seq: &[u64], cols: Vec<(ColumnId, Vec<Option<f64>>)>) -> Run {
        Run {
            series: "s".into(),
            ts: ScalarBuffer::from(ts.to_vec()),
            seq: ScalarBuffer::from(seq.to_vec()),
            columns: cols.into_iter().map(|(id, v)| (id, Arc::new(Float64Array::from(v)) as ArrayRef)).collect(),
        }
    }

    fn f64s(run: &Run, id: ColumnId) -> Vec<Option<f64>> {
        run.column(id).unwrap().as_primitive::<Float64Type>().iter().collect()
    }

    const F: &dyn Fn(ColumnId) -> Option<ColumnType> = &|_| Some(ColumnType::F64);

    #[test]
    fn disjoint_runs_concatenate() {
        let a = run(&[1, 2], &[1, 1], vec![(0, vec![Some(1.0), Some(2.0)])]);
        let b = run(&[3], &[2], vec![(1, vec![Some(3.0)])]);
        let m = merge_runs(vec![b, a], F).unwrap();
        m.check_invariants().unwrap();
        assert_eq!(m.ts.as_ref(), &[1, 2, 3]);
        assert_eq!(f64s(&m, 0), [Some(1.0), Some(2.0), None]);
        assert_eq!(f64s(&m, 1), [None, None, Some(3.0)]);
    }

    #[test]
    fn overlapping_runs_resolve_each_cell_by_seq() {
        let old = run(&[1, 2], &[1, 1], vec![(0, vec![Some(1.0), Some(2.0)]), (1, vec![Some(10.0), None])]);
        let new = run(&[2, 3], &[5, 5], vec![(0, vec![None, Some(3.0)]), (1, vec![Some(20.0), Some(30.0)])]);
        let m = merge_runs(vec![new, old], F).unwrap();
        m.check_invariants().unwrap();
        assert_eq!(m.ts.as_ref(), &[1, 2, 3]);
        assert_eq!(m.seq.as_ref(), &[1, 5, 5]);
        // ts 2: column 0 only in the old row (the new one has null there), column 1 from the new.
        assert_eq!(f64s(&m, 0), [Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(f64s(&m, 1), [Some(10.0), Some(20.0), Some(30.0)]);
    }

    #[test]
    fn filter_rows_drops_covered_rows() {
        let r = run(&[1, 2, 3], &[1, 2, 3], vec![(0, vec![Some(1.0), Some(2.0), Some(3.0)])]);
        let f = filter_rows(r, |t, _| t != 2);
        assert_eq!(f.ts.as_ref(), &[1, 3]);
        assert_eq!(f64s(&f, 0), [Some(1.0), Some(3.0)]);
    }
}
