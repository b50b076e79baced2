//! The buckets of one series: every family of the plan read either by decoding (the merged run
//! of [`Snapshot::read_series`]) or with push-down: chunks that are exclusive (inside the range,
//! no tombstone, no other source overlapping) and inside one bucket contribute their statistics;
//! other exclusive chunks are decoded and folded as they are; everything else (memtables,
//! overlapping or tombstoned chunks) is decoded and merged as usual.

use std::collections::BTreeMap;

use isobar_storage::merge_runs;
use isobar_storage::{Run, Snapshot};

use super::acc::Acc;
use super::plan::{FamilyInputs, Plan};
use crate::error::Result;

/// The accumulators of one bucket, one per input slot.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BucketState {
    /// Smallest timestamp at which an aggregated column has a value in the bucket (`i64::MAX`
    /// while there is none); the label of the whole-range bucket when the range has no start.
    pub min_ts: i64,
    /// Accumulators by slot.
    pub accs: Vec<Acc>,
}

impl BucketState {
    fn new(slots: usize) -> Self {
        Self { min_ts: i64::MAX, accs: vec![Acc::default(); slots] }
    }

    /// True when no input column has a value in the bucket.
    pub(crate) fn is_empty(&self) -> bool {
        self.accs.iter().all(|a| a.count == 0)
    }

    /// Adds the state of the same bucket of another series.
    pub(crate) fn merge(&mut self, other: &BucketState) {
        self.min_ts = self.min_ts.min(other.min_ts);
        for (a, b) in self.accs.iter_mut().zip(&other.accs) {
            a.merge(b);
        }
    }
}

/// Buckets by start time.
pub(crate) type Buckets = BTreeMap<i64, BucketState>;

/// Statistics of how a series was answered, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushDownStats {
    /// Chunks answered from their statistics.
    pub chunks_from_stats: u64,
    /// Rows those chunks hold.
    pub rows_from_stats: u64,
    /// Rows decoded.
    pub rows_decoded: u64,
}

impl PushDownStats {
    /// Adds `other`.
    pub fn add(&mut self, other: PushDownStats) {
        self.chunks_from_stats += other.chunks_from_stats;
        self.rows_from_stats += other.rows_from_stats;
        self.rows_decoded += other.rows_decoded;
    }
}

/// The buckets of `series` for every family of `plan`.
pub(crate) fn series_buckets(snapshot: &Snapshot, plan: &Plan, series: &str) -> Result<(Buckets, PushDownStats)> {
    let mut buckets = Buckets::new();
    let mut stats = PushDownStats::default();
    for fam in &plan.families {
        if plan.push_down && fam.stats_suffice() {
            push_down(snapshot, plan, fam, series, &mut buckets, &mut stats)?;
        } else if let Some(run) = snapshot.read_series(&plan.table, &fam.family, series, plan.range, &fam.ids)? {
            stats.rows_decoded += run.len() as u64;
            fold_run(plan, fam, &run, &mut buckets);
        }
    }
    Ok((buckets, stats))
}

fn push_down(
    snapshot: &Snapshot,
    plan: &Plan,
    fam: &FamilyInputs,
    series: &str,
    buckets: &mut Buckets,
    stats: &mut PushDownStats,
) -> Result<()> {
    let Some(sources) = snapshot.series_sources(&plan.table, &fam.family, series, plan.range, &fam.ids)? else {
        return Ok(());
    };
    let mut pieces: Vec<Run> = sources.memtables.clone();
    for (fi, file) in sources.files.iter().enumerate() {
        for chunk in file.chunks().iter().filter(|c| sources.range.overlaps(c.min_ts, c.max_ts)) {
            let bucket = plan.bucket_of(chunk.min_ts);
            let exclusive = sources.chunk_is_exclusive(fi, chunk);
            let stats_of = |id| file.reader().chunk_stats(chunk, id);
            // The chunk's first row has a value of some aggregated column when one of them has
            // no null in the chunk; otherwise the earliest value's time is unknown without
            // decoding, which only matters when it labels the answer.
            let starts_with_value =
                fam.inputs.iter().any(|i| stats_of(i.column.id).is_some_and(|s| s.non_null == u64::from(chunk.rows)));
            let label_known = starts_with_value || !plan.labels_by_first_value();
            if exclusive && label_known && bucket == plan.bucket_of(chunk.max_ts) {
                let state = buckets.entry(bucket).or_insert_with(|| BucketState::new(plan.slots));
                if starts_with_value {
                    state.min_ts = state.min_ts.min(chunk.min_ts);
                }
                for input in &fam.inputs {
                    if let Some(s) = stats_of(input.column.id) {
                        state.accs[input.slot].merge_stats(s);
                    }
                }
                stats.chunks_from_stats += 1;
                stats.rows_from_stats += u64::from(chunk.rows);
            } else if let Some(run) = sources.read_chunk(fi, chunk, &fam.ids)? {
                if exclusive {
                    // Its rows are final: fold them without merging.
                    stats.rows_decoded += run.len() as u64;
                    fold_run(plan, fam, &run, buckets);
                } else {
                    pieces.push(run);
                }
            }
        }
    }
    let types = |id| fam.family.stored_type(id);
    if let Some(run) = merge_runs(pieces, &types) {
        stats.rows_decoded += run.len() as u64;
        fold_run(plan, fam, &run, buckets);
    }
    Ok(())
}

/// Adds the rows of a merged run, bucket by bucket.
fn fold_run(plan: &Plan, fam: &FamilyInputs, run: &Run, buckets: &mut Buckets) {
    let ts: &[i64] = &run.ts;
    let mut start = 0;
    while start < ts.len() {
        let bucket = plan.bucket_of(ts[start]);
        let end_ts = plan.bucket_end(bucket);
        let end = start + ts[start..].partition_point(|t| *t < end_ts);
        let end = end.max(start + 1);
        let state = buckets.entry(bucket).or_insert_with(|| BucketState::new(plan.slots));
        for input in &fam.inputs {
            if let Some(array) = run.column(input.column.id) {
                let segment = array.slice(start, end - start);
                if let Some(first) = (0..segment.len()).find(|i| segment.is_valid(*i))
                    && let Some(t) = ts.get(start + first)
                {
                    state.min_ts = state.min_ts.min(*t);
                }
                state.accs[input.slot].fold(&ts[start..end], &segment, input.needs);
            }
        }
        start = end;
    }
}
