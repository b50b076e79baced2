//! Cutting one series' time range into spans of bounded size, so that a scan reads (and
//! merges) a long series piece by piece instead of whole.
//!
//! The plan is made from metadata only: for every projected family, the SSTable chunks of the
//! series that overlap the range (their first time and row count, from the file's index) and the
//! timestamps of its memtable rows (one row each). These "events" are sorted by time and cut
//! greedily once they add up to `target` rows, always between two distinct times:
//!
//! ```text
//! range.from                                                            range.to
//! |  file A:  [chunk 4096 rows ][chunk 4096 rows ][chunk 4096 rows ]        |
//! |  file B:        [chunk 4096 rows  ]                    memtable: . . . .|
//! |<-------- span 1 -------->|<--------- span 2 --------->|<--- span 3 ---->|
//! ```
//!
//! Spans are contiguous and cover the range. A span holds the rows of the events that start
//! in it (about `target`, plus at most one event's rows) and the tails of chunks that started in
//! an earlier span (at most one chunk per file, since a file's chunks of one series do not
//! overlap in time). What one span materialises is thus bounded by `target` plus a chunk per
//! source, whatever the length of the series. Tombstones and sequence numbers are ignored here
//! (counting a row that the read then drops only makes a span smaller).

use crate::read::snapshot::Snapshot;
use crate::schema::{FamilyDef, TableDef};
use crate::selector::{SeriesSelector, TimeRange};

impl Snapshot {
    /// Contiguous spans covering `range`, in ascending time order, each holding about
    /// `target` rows of `series` summed over `families`; `[range]` alone when the whole series
    /// holds at most `target` rows in the range.
    pub(crate) fn series_spans(
        &self,
        table: &TableDef,
        families: &[&FamilyDef],
        series: &str,
        range: TimeRange,
        target: usize,
    ) -> Vec<TimeRange> {
        let target = target.max(1) as u64;
        // (first time, rows) of every chunk and memtable row.
        let mut events: Vec<(i64, u64)> = Vec::new();
        let mut total: u64 = 0;
        let selector = SeriesSelector::Exact(series.to_string());
        for family in families {
            let Some((fv, narrowed)) = self.family_in_range(table, family, range) else { continue };
            for mem in std::iter::once(&fv.active).chain(fv.frozen.iter().map(|f| &f.mem)) {
                for run in mem.runs(&selector, narrowed, self.seq(), Some(&[]), &|_, _, _| true) {
                    total += run.len() as u64;
                    events.extend(run.ts.iter().map(|t| (*t, 1)));
                }
            }
            for file in &fv.files {
                if !narrowed.overlaps(file.meta.min_ts, file.meta.max_ts) {
                    continue;
                }
                let Some(entry) = file.reader.get(series) else { continue };
                for chunk in file.reader.chunks(&entry).iter().filter(|c| narrowed.overlaps(c.min_ts, c.max_ts)) {
                    total += u64::from(chunk.rows);
                    events.push((chunk.min_ts.max(narrowed.from), u64::from(chunk.rows)));
                }
            }
        }
        if total <= target {
            return vec![range];
        }
        events.sort_unstable_by_key(|e| e.0);
        let mut spans = Vec::new();
        let (mut from, mut rows) = (range.from, 0u64);
        for (i, (ts, n)) in events.iter().enumerate() {
            rows += n;
            if rows < target {
                continue;
            }
            // Cut before the next distinct time (never between rows of one timestamp).
            if let Some((next, _)) = events.get(i + 1)
                && next > ts
            {
                spans.push(TimeRange { from, to: *next });
                from = *next;
                rows = 0;
            }
        }
        spans.push(TimeRange { from, to: range.to });
        spans
    }
}
