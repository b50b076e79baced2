//! The fast path of [`super::merge::merge_runs`] for runs that overlap in time: one walk over the
//! timestamps decides the merged order, then every column is built by copying whole stretches
//! of its sources.
//!
//! The common case it serves is a closed compaction window with late runs: one big sorted source
//! (the window's main file) and a few small ones whose rows fall between its rows. The general
//! merge ([`super::merge`]'s `interleave_runs`) sorts every row of every source and gathers each
//! cell on its own; here the walk takes, from the source with the earliest head, every row before
//! the next head of any other source in one step, so the merged order is a short list of
//! stretches `(source, first row, rows)`, and a column is built with one copy of values (and of
//! validity, where a source has gaps) per stretch: typed for `f64`/`i64` ([`copy`]), through
//! `MutableArrayData` for the other types.
//!
//! Answers are those of the general merge: a timestamp held by several sources becomes one row
//! whose sequence number is the highest, and each of its cells takes the value of the newest of
//! those rows that has one (last write wins per cell); such a timestamp is always a stretch of
//! one row, so the per-cell choice only replaces that stretch.

use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{ArrayRef, make_array, new_null_array};
use arrow_data::ArrayData;
use arrow_data::transform::MutableArrayData;

use self::copy::copy_primitive;
use crate::run::Run;
use crate::schema::{ColumnId, ColumnType, merge_partner};

/// Rows `first..first + len` of source `run`, taken as one piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    run: usize,
    first: usize,
    len: usize,
}

/// A timestamp held by several sources: the stretch (of one row) it became, and its rows
/// `(source, row)`, oldest first (the last one is the stretch's row).
struct Shared {
    stretch: usize,
    rows: Vec<(usize, usize)>,
}

/// The merged order of a set of runs.
struct Plan {
    ts: Vec<i64>,
    seq: Vec<u64>,
    stretches: Vec<Stretch>,
    shared: Vec<Shared>,
}

impl Plan {
    /// Walks the runs' timestamps once. Each run is sorted with one row per timestamp.
    fn new(runs: &[Run]) -> Plan {
        let total = runs.iter().map(Run::len).sum();
        let mut plan = Plan {
            ts: Vec::with_capacity(total),
            seq: Vec::with_capacity(total),
            stretches: Vec::new(),
            shared: Vec::new(),
        };
        let mut heads = vec![0usize; runs.len()];
        loop {
            // The run with the earliest head, and the earliest head of the others.
            let mut first: Option<(usize, i64)> = None;
            for (r, run) in runs.iter().enumerate() {
                let head = heads.get(r).and_then(|h| run.ts.get(*h));
                if let Some(&t) = head
                    && first.is_none_or(|(_, f)| t < f)
                {
                    first = Some((r, t));
                }
            }
            let Some((r, t)) = first else { break };
            let next_other = runs
                .iter()
                .enumerate()
                .filter(|(o, _)| *o != r)
                .filter_map(|(o, run)| heads.get(o).and_then(|h| run.ts.get(*h)).copied())
                .min();
            if next_other == Some(t) {
                plan.push_shared(runs, &mut heads, t);
                continue;
            }
            let (Some(run), Some(head)) = (runs.get(r), heads.get(r).copied()) else { break };
            let rest = run.ts.get(head..).unwrap_or_default();
            let len = next_other.map_or(rest.len(), |n| rest.partition_point(|x| *x < n)).max(1);
            plan.ts.extend_from_slice(rest.get(..len).unwrap_or_default());
            plan.seq.extend_from_slice(run.seq.get(head..head + len).unwrap_or_default());
            plan.stretches.push(Stretch { run: r, first: head, len });
            if let Some(h) = heads.get_mut(r) {
                *h += len;
            }
        }
        plan
    }

    /// Takes the rows at time `t` of every run that holds it: one output row from the newest.
    fn push_shared(&mut self, runs: &[Run], heads: &mut [usize], t: i64) {
        let mut rows: Vec<(u64, usize, usize)> = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            let Some(h) = heads.get_mut(r) else { continue };
            if run.ts.get(*h) == Some(&t) {
                rows.push((run.seq.get(*h).copied().unwrap_or_default(), r, *h));
                *h += 1;
            }
        }
        rows.sort_by_key(|&(s, r, _)| (s, r));
        let Some(&(seq, run, first)) = rows.last() else { return };
        self.ts.push(t);
        self.seq.push(seq);
        self.shared
            .push(Shared { stretch: self.stretches.len(), rows: rows.iter().map(|&(_, r, i)| (r, i)).collect() });
        self.stretches.push(Stretch { run, first, len: 1 });
    }

    /// The merged column `id`: each stretch copied from its source (nulls where the source
    /// lacks the column), with the cells of shared timestamps taken from the newest row that has
    /// one. `None` when a source's column is not of type `ty` (or the copy fails: offsets of a
    /// string column would overflow).
    fn column(&self, runs: &[Run], id: ColumnId, ty: ColumnType) -> Option<ArrayRef> {
        let arrow_type = ty.arrow_type();
        let sources: Vec<Option<&ArrayRef>> = runs.iter().map(|r| r.column(id)).collect();
        if sources.iter().flatten().any(|a| *a.data_type() != arrow_type) {
            return None;
        }
        let data: Vec<ArrayData> = sources.iter().flatten().map(|a| a.to_data()).collect();
        if data.is_empty() {
            return Some(new_null_array(&arrow_type, self.ts.len()));
        }
        // Each run's position among the runs that have the column.
        let mut slot = Vec::with_capacity(runs.len());
        let mut next = 0;
        for s in &sources {
            slot.push(s.map(|_| {
                next += 1;
                next - 1
            }));
        }
        // A row decides a shared cell when it has a cell of the column or of its merge partner
        // (its null marker, or the marked column): an explicit null is a cell too.
        let partners: Vec<Option<&ArrayRef>> = runs.iter().map(|r| r.column(merge_partner(id))).collect();
        let valid = |r: usize, i: usize| {
            let has = |cols: &[Option<&ArrayRef>]| cols.get(r).copied().flatten().is_some_and(|a| a.is_valid(i));
            has(&sources) || has(&partners)
        };
        let mut stretches = std::borrow::Cow::Borrowed(&self.stretches);
        for shared in &self.shared {
            let newest_with_value = shared.rows.iter().rev().find(|&&(r, i)| valid(r, i));
            let Some(&(run, first)) = newest_with_value else { continue };
            let pick = Stretch { run, first, len: 1 };
            if stretches.get(shared.stretch) != Some(&pick)
                && let Some(s) = stretches.to_mut().get_mut(shared.stretch)
            {
                *s = pick;
            }
        }
        let typed = match ty {
            ColumnType::F64 => copy_primitive::<Float64Type>(&sources, &stretches, self.ts.len()),
            ColumnType::I64 => copy_primitive::<Int64Type>(&sources, &stretches, self.ts.len()),
            ColumnType::Bool | ColumnType::String => None,
        };
        if typed.is_some() {
            return typed;
        }
        // Validity is tracked only where a null can appear: copying validity bits per stretch
        // costs more than copying the values of a dense column.
        let nulls = data.len() < runs.len() || data.iter().any(|d| d.null_count() > 0);
        let mut out = MutableArrayData::new(data.iter().collect(), nulls, self.ts.len());
        for s in stretches.iter() {
            let done = match slot.get(s.run).copied().flatten() {
                Some(k) => out.try_extend(k, s.first, s.first + s.len),
                None => out.try_extend_nulls(s.len),
            };
            done.ok()?;
        }
        Some(make_array(out.freeze()))
    }
}

/// Merges `runs` (of one series, each sorted, overlapping in time) into one run with the
/// columns `ids`; `None` when a column of a run is not of the type `types` gives (the caller
/// then uses the general merge, which drops such a column).
pub(super) fn merge_sorted(
    runs: &[Run],
    ids: &[ColumnId],
    types: &dyn Fn(ColumnId) -> Option<ColumnType>,
) -> Option<Run> {
    let plan = Plan::new(runs);
    let mut columns = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(ty) = types(*id) else { continue };
        columns.push((*id, plan.column(runs, *id, ty)?));
    }
    Some(Run {
        series: runs.first().map(|r| r.series.clone()).unwrap_or_default(),
        ts: plan.ts.into(),
        seq: plan.seq.into(),
        columns,
    })
}

mod copy;
#[cfg(test)]
mod tests;
