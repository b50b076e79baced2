//! Memtables: the in-memory, mutable part of a column family.
//!
//! Each column family has one active memtable that takes writes. When it passes its size limit it
//! is frozen (it stays readable, takes no more writes) and a background flush writes it to an
//! SSTable; a fresh active memtable takes its place at once, so writers keep going.
//!
//! Layout: a concurrent ordered map (crossbeam skiplist) from series key to a per-series buffer
//! behind its own mutex, plus a hash index over the same buffers for the write path. Series are
//! few and long-lived, so both maps are written rarely (under the index's write lock, so they
//! always agree); rows are appended to their series buffer in arrival order (see [`series`]).
//! Writers find their series through the hash index (one hash of the key instead of a skiplist
//! descent comparing keys that mostly share a prefix, like `truck_0042`); ordered reads walk the
//! skiplist. Reads copy what they need under the series lock and sort/merge there, so a reader
//! never blocks writers of other series.

mod column;
mod present;
mod series;

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_skiplist::SkipMap;
use parking_lot::{Mutex, RwLock};

pub use series::ColumnInput;
use series::SeriesBuffer;

use crate::run::Run;
use crate::schema::{ColumnId, FamilyId};
use crate::selector::{SeriesSelector, TimeRange};

/// Decides whether a row survives tombstones: `keep(series, ts, seq)`.
pub(crate) type KeepFn<'a> = &'a (dyn Fn(&str, i64, u64) -> bool + Sync);

/// The in-memory rows of one column family.
#[derive(Debug)]
pub struct Memtable {
    family: FamilyId,
    series: SkipMap<Arc<str>, Arc<Mutex<SeriesBuffer>>>,
    /// The same buffers by key, for writers.
    index: RwLock<HashMap<Arc<str>, Arc<Mutex<SeriesBuffer>>>>,
    bytes: AtomicUsize,
    rows: AtomicUsize,
    min_seq: AtomicU64,
    max_seq: AtomicU64,
}

impl Memtable {
    /// An empty memtable for `family`.
    pub fn new(family: FamilyId) -> Self {
        Self {
            family,
            series: SkipMap::new(),
            index: RwLock::new(HashMap::new()),
            bytes: AtomicUsize::new(0),
            rows: AtomicUsize::new(0),
            min_seq: AtomicU64::new(u64::MAX),
            max_seq: AtomicU64::new(0),
        }
    }

    /// The family this memtable belongs to.
    pub fn family(&self) -> FamilyId {
        self.family
    }

    /// Appends the rows of `series` written with sequence number `seq` that carry at least one
    /// present cell; a row whose cells are all absent is not stored (it changes nothing under
    /// last-write-wins, see [`present`]), and a write with no such row leaves the memtable as it
    /// was. The caller has validated the write: every column has `ts.len()` values of its
    /// declared type, ids ascend.
    pub fn insert(&self, series: &str, ts: &[i64], seq: u64, columns: &[ColumnInput<'_>]) {
        match present::present_rows(ts.len(), columns) {
            present::Present::All => self.insert_rows(series, ts, seq, columns),
            present::Present::None => {}
            present::Present::Some(mask) => {
                let (ts, kept) = present::keep_rows(ts, columns, &mask);
                let inputs: Vec<ColumnInput<'_>> = kept.iter().map(present::KeptColumn::input).collect();
                self.insert_rows(series, &ts, seq, &inputs);
            }
        }
    }

    /// Appends rows as older versions did, rows without a present cell included, so that tests
    /// can make the files those versions left on disk.
    #[cfg(test)]
    pub(crate) fn insert_unfiltered(&self, series: &str, ts: &[i64], seq: u64, columns: &[ColumnInput<'_>]) {
        self.insert_rows(series, ts, seq, columns);
    }

    /// Appends rows as they are (every row has a present cell, or the caller wants it stored).
    fn insert_rows(&self, series: &str, ts: &[i64], seq: u64, columns: &[ColumnInput<'_>]) {
        let index = self.index.read();
        let added = match index.get(series) {
            Some(buf) => buf.lock().append(ts, seq, columns),
            None => {
                drop(index);
                let mut index = self.index.write();
                let buf = index.entry(Arc::from(series)).or_insert_with_key(|key| {
                    self.bytes.fetch_add(key.len() + 96, Ordering::Relaxed);
                    let buf = Arc::new(Mutex::new(SeriesBuffer::new()));
                    self.series.insert(key.clone(), buf.clone());
                    buf
                });
                let buf = buf.clone();
                drop(index);
                buf.lock().append(ts, seq, columns)
            }
        };
        self.bytes.fetch_add(added, Ordering::Relaxed);
        self.rows.fetch_add(ts.len(), Ordering::Relaxed);
        self.min_seq.fetch_min(seq, Ordering::Relaxed);
        self.max_seq.fetch_max(seq, Ordering::Relaxed);
    }

    /// Approximate memory held, in bytes.
    pub fn approximate_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Rows stored (before merging duplicates): rows with at least one present cell.
    pub fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.rows() == 0
    }

    /// Smallest and largest sequence number written, if any.
    pub fn seq_bounds(&self) -> Option<(u64, u64)> {
        (!self.is_empty()).then(|| (self.min_seq.load(Ordering::Relaxed), self.max_seq.load(Ordering::Relaxed)))
    }

    /// Smallest and largest ts written, if any row was.
    pub fn ts_bounds(&self) -> Option<(i64, i64)> {
        let mut bounds: Option<(i64, i64)> = None;
        for e in self.series.iter() {
            if let Some((lo, hi)) = e.value().lock().ts_bounds() {
                bounds = Some(bounds.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            }
        }
        bounds
    }

    /// Number of series.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Sorted, merged runs of the selected series (in key order) with rows visible at `max_seq`,
    /// `ts` in `range`, surviving `keep`, restricted to the columns `ids` (ascending; `None` = all).
    pub fn runs(
        &self,
        selector: &SeriesSelector,
        range: TimeRange,
        max_seq: u64,
        ids: Option<&[ColumnId]>,
        keep: KeepFn<'_>,
    ) -> Vec<Run> {
        let mut out = Vec::new();
        if let Some(key) = selector.exact() {
            let index = self.index.read();
            if let Some((key, buf)) = index.get_key_value(key) {
                let buf = buf.lock();
                out.extend(buf.visible_run(key, range, max_seq, ids, &|t, s| keep(key, t, s)));
            }
            return out;
        }
        let (lo, hi) = selector.key_bounds();
        let range_iter = self.series.range::<str, (Bound<&str>, Bound<&str>)>((lo, hi));
        for e in range_iter {
            let key: &str = e.key();
            if selector.is_past(key) {
                break;
            }
            if !selector.matches(key) {
                continue;
            }
            let buf = e.value().lock();
            out.extend(buf.visible_run(e.key(), range, max_seq, ids, &|t, s| keep(key, t, s)));
        }
        out
    }

    /// The null-marker columns ([`crate::schema::null_marker`]) some row holds, ascending.
    pub fn null_markers(&self) -> Vec<ColumnId> {
        let mut markers: Vec<ColumnId> = Vec::new();
        for e in self.series.iter() {
            markers.extend(e.value().lock().column_ids().filter(|id| crate::schema::marked_column(*id).is_some()));
        }
        markers.sort_unstable();
        markers.dedup();
        markers
    }

    /// Every series key, in order.
    pub fn series_keys(&self) -> Vec<Arc<str>> {
        self.series.iter().map(|e| e.key().clone()).collect()
    }

    /// Number of buffered rows of `series` (0 when absent).
    pub fn series_len(&self, series: &str) -> usize {
        self.index.read().get(series).map_or(0, |b| b.lock().len())
    }
}

#[cfg(test)]
mod tests;
