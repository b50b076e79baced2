//! [`Generator`]: streams a [`Spec`] as [`WriteBatch`]es, time-major like a fleet sends it,
//! optionally with late rows and re-sent batches mixed in ([`Disorder`]).
//!
//! Batches are cut into windows of `ts_per_batch` consecutive timestamps; within a window, one
//! batch per group of `series_per_batch` consecutive series, each holding one [`SeriesWrite`] per
//! series. Memory is O(series + batch + pending late rows), never the data set.

use std::collections::BTreeMap;

use isobar_storage::{ColumnType, ColumnValues, SeriesWrite, WriteBatch};

use crate::Spec;
use crate::model::SeriesState;
use crate::rng::Rng;

const DAY_NS: i64 = 86_400_000_000_000;

/// Late and duplicate data to mix in, deterministically (the stream depends on the spec, the
/// batching and these numbers only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Disorder {
    /// Fraction of rows held back and delivered in a later window, `1..=max_late_ns` after their
    /// timestamp (at least one window later), appended to that window's first batch; rows still
    /// pending after the last window arrive in one final batch.
    pub late_fraction: f64,
    /// Upper bound of the delay of a late row, in nanoseconds.
    pub max_late_ns: i64,
    /// Fraction of batches re-sent verbatim (as a retry would), right after the following batch.
    pub duplicate_fraction: f64,
}

impl Default for Disorder {
    /// No late rows, no duplicates (`max_late_ns` one hour).
    fn default() -> Self {
        Self { late_fraction: 0.0, max_late_ns: 3_600_000_000_000, duplicate_fraction: 0.0 }
    }
}

/// A row held back to be delivered late.
struct LateRow {
    series: usize,
    ts: i64,
    due_window: usize,
    values: Vec<f64>,
}

/// Rows of one series being collected for a batch.
struct Rows {
    ts: Vec<i64>,
    cols: Vec<Vec<f64>>,
}

impl Rows {
    fn new(ncols: usize) -> Self {
        Self { ts: Vec::new(), cols: vec![Vec::new(); ncols] }
    }

    fn push(&mut self, ts: i64, values: &[f64]) {
        self.ts.push(ts);
        self.cols.iter_mut().zip(values).for_each(|(c, v)| c.push(*v));
    }
}

/// Streams a [`Spec`] as write batches; see the module doc for the order.
pub struct Generator {
    spec: Spec,
    ts_per_batch: usize,
    series_per_batch: usize,
    disorder: Disorder,
    states: Vec<SeriesState>,
    window: usize,
    group: usize,
    mix: Rng,
    late: Vec<LateRow>,
    /// A duplicate waiting for one more batch, and one to emit next.
    held: Option<WriteBatch>,
    due: Option<WriteBatch>,
    row: Vec<f64>,
}

impl Generator {
    /// A generator of `spec` with the default batching: 10 timestamps x all series per batch.
    pub fn new(spec: Spec) -> Self {
        let states = (0..spec.series).map(|i| SeriesState::new(spec.kind, spec.seed, i)).collect();
        Self {
            mix: Rng::new(spec.seed, u64::MAX),
            series_per_batch: spec.series.max(1),
            spec,
            ts_per_batch: 10,
            disorder: Disorder::default(),
            states,
            window: 0,
            group: 0,
            late: Vec::new(),
            held: None,
            due: None,
            row: Vec::new(),
        }
    }

    /// Sets the timestamps per batch (at least 1). Call before iterating.
    pub fn ts_per_batch(mut self, n: usize) -> Self {
        self.ts_per_batch = n.max(1);
        self
    }

    /// Sets the series per batch (at least 1). Call before iterating.
    pub fn series_per_batch(mut self, n: usize) -> Self {
        self.series_per_batch = n.max(1);
        self
    }

    /// Mixes in late rows and duplicate batches. Call before iterating.
    pub fn disorder(mut self, disorder: Disorder) -> Self {
        self.disorder = disorder;
        self
    }

    /// The spec being generated.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    fn windows(&self) -> usize {
        self.spec.timestamps.div_ceil(self.ts_per_batch)
    }

    fn window_of(&self, ts: i64) -> usize {
        let span = self.spec.interval_ns.saturating_mul(self.ts_per_batch as i64).max(1);
        usize::try_from((ts - self.spec.start_ns) / span).unwrap_or(0)
    }

    /// The next non-empty batch in stream order, without duplicates; `None` at the end.
    fn build(&mut self) -> Option<WriteBatch> {
        loop {
            let batch = self.build_one()?;
            if !batch.series.is_empty() {
                return Some(batch);
            }
        }
    }

    /// The next batch in stream order (empty when all its rows were held back); `None` at the end.
    fn build_one(&mut self) -> Option<WriteBatch> {
        let ncols = self.spec.columns().len();
        let mut rows: BTreeMap<usize, Rows> = BTreeMap::new();
        let last = self.window >= self.windows() || self.spec.series == 0;
        if last && self.late.is_empty() {
            return None;
        }
        if !last {
            let t0 = self.window * self.ts_per_batch;
            let t1 = (t0 + self.ts_per_batch).min(self.spec.timestamps);
            let s0 = self.group * self.series_per_batch;
            let s1 = (s0 + self.series_per_batch).min(self.spec.series);
            for s in s0..s1 {
                let r = rows.entry(s).or_insert_with(|| Rows::new(ncols));
                for t in t0..t1 {
                    let ts = self.spec.ts_at(t);
                    self.states[s].next_row(day_turns(&self.spec, t), &mut self.row);
                    let d = self.disorder;
                    if d.late_fraction > 0.0 && self.mix.unit() < d.late_fraction {
                        let delay = 1 + self.mix.below(d.max_late_ns.max(1) as u64) as i64;
                        let due_window = self.window_of(ts.saturating_add(delay)).max(self.window + 1);
                        self.late.push(LateRow { series: s, ts, due_window, values: self.row.clone() });
                        continue;
                    }
                    r.push(ts, &self.row);
                }
            }
            if self.group == 0 {
                self.deliver_late(&mut rows, ncols, |row, w| row.due_window <= w);
            }
            self.group += 1;
            if self.group * self.series_per_batch >= self.spec.series {
                self.group = 0;
                self.window += 1;
            }
        } else {
            self.deliver_late(&mut rows, ncols, |_, _| true);
        }
        let mut batch = WriteBatch::new();
        for (s, r) in rows.into_iter().filter(|(_, r)| !r.ts.is_empty()) {
            batch.push(to_series_write(&self.spec, s, r));
        }
        Some(batch)
    }

    /// Moves the pending late rows `due` says are due into `rows`.
    fn deliver_late(&mut self, rows: &mut BTreeMap<usize, Rows>, ncols: usize, due: impl Fn(&LateRow, usize) -> bool) {
        let window = self.window;
        let (now, keep): (Vec<_>, Vec<_>) = self.late.drain(..).partition(|r| due(r, window));
        self.late = keep;
        for late in now {
            rows.entry(late.series).or_insert_with(|| Rows::new(ncols)).push(late.ts, &late.values);
        }
    }
}

impl Iterator for Generator {
    type Item = WriteBatch;

    fn next(&mut self) -> Option<WriteBatch> {
        if let Some(dup) = self.due.take() {
            return Some(dup);
        }
        let Some(batch) = self.build() else {
            return self.held.take();
        };
        self.due = self.held.take();
        if self.disorder.duplicate_fraction > 0.0 && self.mix.unit() < self.disorder.duplicate_fraction {
            self.held = Some(batch.clone());
        }
        Some(batch)
    }
}

/// Time of day of sample `t` in turns (`[0, 1)`, 0 = midnight UTC), with exact integer arithmetic.
pub(crate) fn day_turns(spec: &Spec, t: usize) -> f64 {
    let elapsed = (t as i64).wrapping_mul(spec.interval_ns).rem_euclid(DAY_NS);
    ((spec.start_ns.rem_euclid(DAY_NS) + elapsed) % DAY_NS) as f64 / DAY_NS as f64
}

fn to_series_write(spec: &Spec, series: usize, rows: Rows) -> SeriesWrite {
    let mut write = SeriesWrite::new(spec.kind.table_name(), spec.series_name(series), rows.ts);
    for (col, vals) in spec.columns().iter().zip(rows.cols) {
        let values = match col.ty {
            ColumnType::I64 => ColumnValues::I64(vals.into_iter().map(|v| v as i64).collect()),
            _ => ColumnValues::F64(vals),
        };
        write = write.column(col.family, col.name, values);
    }
    write
}

/// See [`Spec::series_history`].
pub(crate) fn series_history(spec: &Spec, index: usize) -> SeriesWrite {
    let mut state = SeriesState::new(spec.kind, spec.seed, index);
    let mut rows = Rows::new(spec.columns().len());
    let mut row = Vec::new();
    for t in 0..spec.timestamps {
        state.next_row(day_turns(spec, t), &mut row);
        rows.push(spec.ts_at(t), &row);
    }
    to_series_write(spec, index, rows)
}
