//! [`SeriesSources`]: the unmerged sources of one series of one family in a snapshot.
//!
//! [`Snapshot::read_series`] merges every source into one run, which is what a scan needs. Query
//! operators can do better when they see the sources themselves:
//!
//! - **aggregate push-down**: a chunk of an SSTable whose time span lies inside the (TTL-narrowed)
//!   range, that no other source overlaps for this series ([`SeriesSources::overlaps_other`]) and
//!   that no tombstone touches ([`SeriesSources::chunk_is_clean`]) holds exactly the rows the merge
//!   would produce for its span, so its statistics answer `count/sum/min/max` without decoding;
//! - **latest point**: reading the newest chunks of each source ([`SeriesSources::read_chunk`])
//!   instead of the whole history.
//!
//! Memtable rows are few (a memtable is bounded) and come already merged per memtable, with
//! tombstones applied and restricted to the range.

use std::sync::Arc;

use crate::error::Result;
use crate::manifest::Tombstone;
use crate::read::merge::filter_rows;
use crate::read::snapshot::Snapshot;
use crate::run::Run;
use crate::schema::{ColumnId, FamilyDef, TableDef, with_null_markers};
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{ChunkMeta, SeriesEntry, SstReader};
use crate::version::SstFile;

/// One SSTable that holds rows of the series.
#[derive(Clone, Debug)]
pub struct FileSource {
    /// The file (kept alive by this handle).
    pub file: Arc<SstFile>,
    /// The series' entry in the file's index.
    pub entry: SeriesEntry,
}

impl FileSource {
    /// The open reader.
    pub fn reader(&self) -> &SstReader {
        &self.file.reader
    }

    /// Every chunk of the series in this file, in time order (not restricted to the range).
    pub fn chunks(&self) -> &[ChunkMeta] {
        self.file.reader.chunks(&self.entry)
    }
}

/// The sources of one series of one family, as a snapshot sees them.
#[derive(Clone, Debug)]
pub struct SeriesSources {
    /// The series key.
    pub series: Arc<str>,
    /// The requested range narrowed by the family's TTL; never empty.
    pub range: TimeRange,
    /// Rows of each memtable (active and frozen) visible to the snapshot, inside `range`,
    /// tombstones applied, restricted to the requested columns and their null markers.
    pub memtables: Vec<Run>,
    /// SSTables holding rows of the series inside `range`, in the version's order.
    pub files: Vec<FileSource>,
    /// Tombstones that match the series and overlap `range`.
    pub tombstones: Vec<Tombstone>,
    /// The snapshot's sequence number.
    pub seq: u64,
}

impl Snapshot {
    /// The sources of `series` in `family`, with memtable rows restricted to `columns`
    /// (ascending ids). `None` when the TTL-narrowed range is empty or the family has no state.
    pub fn series_sources(
        &self,
        table: &TableDef,
        family: &FamilyDef,
        series: &str,
        range: TimeRange,
        columns: &[ColumnId],
    ) -> Result<Option<SeriesSources>> {
        let Some((fv, range)) = self.family_in_range(table, family, range) else { return Ok(None) };
        let tombstones: Vec<Tombstone> = self
            .tombstones(table, family)
            .into_iter()
            .filter(|t| t.selector.matches(series) && range.overlaps(t.range.from, t.range.to.saturating_sub(1)))
            .collect();
        let keep = |s: &str, ts: i64, seq: u64| !tombstones.iter().any(|t| t.covers(s, ts, seq));
        let selector = SeriesSelector::Exact(series.to_string());
        // The columns' null markers come along, so that merges see explicit nulls.
        let columns = &with_null_markers(columns);
        let mut memtables = Vec::new();
        for mem in std::iter::once(&fv.active).chain(fv.frozen.iter().map(|f| &f.mem)) {
            memtables.extend(mem.runs(&selector, range, self.seq(), Some(columns), &keep));
        }
        let mut files = Vec::new();
        for file in &fv.files {
            if !range.overlaps(file.meta.min_ts, file.meta.max_ts) {
                continue;
            }
            let Some(entry) = file.reader.get(series) else { continue };
            if range.overlaps(entry.min_ts, entry.max_ts) {
                files.push(FileSource { file: Arc::clone(file), entry });
            }
        }
        Ok(Some(SeriesSources { series: Arc::from(series), range, memtables, files, tombstones, seq: self.seq() }))
    }
}

impl SeriesSources {
    /// True when a tombstone deletes the row `(ts, seq)` of this series.
    pub fn is_deleted(&self, ts: i64, seq: u64) -> bool {
        self.tombstones.iter().any(|t| t.covers(&self.series, ts, seq))
    }

    /// True when no tombstone can delete a row of `chunk`.
    pub fn chunk_is_clean(&self, chunk: &ChunkMeta) -> bool {
        !self.tombstones.iter().any(|t| t.seq > chunk.min_seq && t.range.overlaps(chunk.min_ts, chunk.max_ts))
    }

    /// True when a source other than file `file` (an index into [`SeriesSources::files`]) has a
    /// row of this series in `[min_ts, max_ts]`, judged by memtable rows and chunk spans.
    pub fn overlaps_other(&self, file: usize, min_ts: i64, max_ts: i64) -> bool {
        let span = TimeRange { from: min_ts, to: max_ts.saturating_add(1) };
        let in_mem = self.memtables.iter().any(|r| {
            let start = r.ts.partition_point(|t| *t < min_ts);
            r.ts.get(start).is_some_and(|t| *t <= max_ts)
        });
        in_mem
            || self.files.iter().enumerate().any(|(i, f)| {
                i != file
                    && span.overlaps(f.entry.min_ts, f.entry.max_ts)
                    && f.chunks().iter().any(|c| span.overlaps(c.min_ts, c.max_ts))
            })
    }

    /// True when `chunk` lies wholly inside the range, no tombstone touches it and no other
    /// source overlaps it: its rows are then exactly what a merge yields for its span.
    pub fn chunk_is_exclusive(&self, file: usize, chunk: &ChunkMeta) -> bool {
        self.range.covers(chunk.min_ts, chunk.max_ts)
            && self.chunk_is_clean(chunk)
            && !self.overlaps_other(file, chunk.min_ts, chunk.max_ts)
    }

    /// The rows of `chunk` of file `file` inside the range with tombstones applied, restricted
    /// to `columns` (ascending ids; those the file lacks are absent) and their null markers,
    /// without rows that have no present cell (older files may hold some). `None` when none
    /// remain.
    pub fn read_chunk(&self, file: usize, chunk: &ChunkMeta, columns: &[ColumnId]) -> Result<Option<Run>> {
        let Some(source) = self.files.get(file) else { return Ok(None) };
        let run = source.reader().read_chunk_present(&source.entry, chunk, &with_null_markers(columns))?;
        let run = if self.range.covers(chunk.min_ts, chunk.max_ts) { run } else { run.slice_time(self.range) };
        let run = if self.tombstones.is_empty() { run } else { filter_rows(run, |ts, seq| !self.is_deleted(ts, seq)) };
        Ok((!run.is_empty()).then_some(run))
    }
}
