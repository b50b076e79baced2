//! Range scans: series selector x time range x projection -> Arrow record batches.
//!
//! A scan resolves its projection against the table, lists the selected series of every projected
//! family, then reads series in groups (in parallel on the rayon pool), joins the families of a
//! series on `ts`, and yields record batches of `batch_rows / 2 ..= batch_rows` rows (fewer at the
//! end): `series` (utf8), `ts` (timestamp ns UTC), then one nullable column per `family.column`
//! in the order asked for.
//!
//! A series is read in time spans of about `max(batch_rows, SPAN_ROWS)` rows (planned from
//! chunk metadata, see [`super::span`]): the group read ahead holds the first span of each
//! series, and the next span of a series is read when the previous one has been taken into
//! batches. What a scan holds at once is therefore bounded by the group size times a span,
//! independent of how long a series is. Spans are cut between distinct timestamps, so merging
//! each span on its own yields exactly the rows of merging the whole series.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, TimestampNanosecondArray, UInt32Array};
use arrow_schema::SchemaRef;
use arrow_select::take::take;
use rayon::prelude::*;

use super::part::{Part, assemble, positions, union_ts};
use super::projection::Projection;
use super::snapshot::Snapshot;
use crate::error::{InvalidInput, Result};
use crate::run::Run;
use crate::schema::TableDef;
use crate::selector::{SeriesSelector, TimeRange};

/// Time order of a scan's rows within each series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first (the default).
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

/// What to scan.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScanRequest {
    /// Table name.
    pub table: String,
    /// Which series.
    pub selector: SeriesSelector,
    /// Which times, `[from, to)`.
    pub range: TimeRange,
    /// `family.column` or `family.*`; empty means every column of every family.
    pub columns: Vec<String>,
    /// At most this many rows in total.
    pub limit: Option<usize>,
    /// At most this many rows of each series (the first ones in `order`), counted before
    /// `limit`.
    #[serde(default)]
    pub limit_per_series: Option<usize>,
    /// Time order within each series (series always come in key order).
    pub order: Order,
    /// Rows per record batch, roughly (default 8192).
    pub batch_rows: usize,
}

impl ScanRequest {
    /// Every column of every series of `table`, all times.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            selector: SeriesSelector::All,
            range: TimeRange::ALL,
            columns: Vec::new(),
            limit: None,
            limit_per_series: None,
            order: Order::Asc,
            batch_rows: 8192,
        }
    }

    /// Restricts the series.
    pub fn selector(mut self, selector: SeriesSelector) -> Self {
        self.selector = selector;
        self
    }

    /// Restricts the time range.
    pub fn range(mut self, range: TimeRange) -> Self {
        self.range = range;
        self
    }

    /// Projects columns (`family.column` or `family.*`).
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }
}

/// Series one parallel task reads in a row.
const SERIES_PER_TASK: usize = 16;

/// Rows a series is read in at least (when `batch_rows` is smaller): a few SSTable chunks, so
/// that a small batch size does not make a long series decode every chunk many times.
pub const SPAN_ROWS: usize = 16_384;

/// An iterator of record batches; see the module docs.
///
/// Series are read a few at a time in parallel and queued; a batch takes queued series until it
/// holds at least half of `batch_rows`, cutting a series that would take it past `batch_rows`
/// (the rest opens the next batch). A series of at least half a batch thus goes out as it was
/// read, without copying; smaller ones are concatenated.
pub struct Scan {
    snapshot: Snapshot,
    table: TableDef,
    projection: Projection,
    schema: SchemaRef,
    series: Vec<Arc<str>>,
    next: usize,
    /// Series read but not yet output, in key order.
    pending: VecDeque<Part>,
    remaining: Option<usize>,
    /// `limit_per_series`, and the series being output with how many of its rows it may still
    /// output.
    per_series: Option<usize>,
    series_left: Option<(Arc<str>, usize)>,
    range: TimeRange,
    order: Order,
    batch_rows: usize,
    /// Rows a series is read in at a time, roughly.
    span_rows: usize,
    /// Most rows read and not yet output at once (see [`Scan::peak_rows_held`]).
    peak_rows: usize,
}

impl Snapshot {
    /// Starts a scan of this snapshot.
    pub fn scan(&self, req: &ScanRequest) -> Result<Scan> {
        if req.range.is_empty() {
            return Err(InvalidInput::Impossible(format!(
                "empty time range: from {} must be before to {}",
                req.range.from, req.range.to
            ))
            .into());
        }
        let table = self.table(&req.table)?.clone();
        let projection = Projection::resolve(&table, &req.columns)?;
        let mut series: Vec<Arc<str>> =
            projection.families.iter().flat_map(|(f, _)| self.series_keys(f, &req.selector)).collect();
        series.sort_unstable();
        series.dedup();
        Ok(Scan {
            snapshot: self.clone(),
            schema: projection.schema(),
            table,
            projection,
            series,
            next: 0,
            pending: VecDeque::new(),
            remaining: req.limit,
            per_series: req.limit_per_series,
            series_left: None,
            range: req.range,
            order: req.order,
            batch_rows: req.batch_rows.max(1),
            span_rows: req.batch_rows.max(SPAN_ROWS),
            peak_rows: 0,
        })
    }
}

impl Scan {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The most rows this scan has held at once, read but not yet returned in a batch (the
    /// queued spans of the series read ahead plus the batch being assembled). A diagnostic for
    /// tests and metrics: it is bounded by the read-ahead group times a span, not by the
    /// length of a series.
    pub fn peak_rows_held(&self) -> usize {
        self.peak_rows
    }

    /// Reads each series in spans of about `rows` rows instead of the default
    /// `max(batch_rows, SPAN_ROWS)` (at least 1). The output is the same; smaller spans hold
    /// less and decode shared chunks more often. Call it before the first batch.
    pub fn with_span_rows(mut self, rows: usize) -> Self {
        self.span_rows = rows.max(1);
        self
    }

    /// Records the rows held now: those queued plus `assembling` (in the batch being built).
    fn note_held(&mut self, assembling: usize) {
        let held = assembling + self.pending.iter().map(|p| p.rows).sum::<usize>();
        self.peak_rows = self.peak_rows.max(held);
    }

    /// Reads the first span of one series; the part carries the spans still to read.
    fn read_one(&self, series: &Arc<str>) -> Result<Option<Part>> {
        let families: Vec<&crate::schema::FamilyDef> = self.projection.families.iter().map(|(f, _)| f).collect();
        let mut spans = self.snapshot.series_spans(&self.table, &families, series, self.range, self.span_rows);
        // Spans are taken with `pop`: the last one is read first.
        if self.order == Order::Asc {
            spans.reverse();
        }
        self.read_span(series, spans)
    }

    /// Reads the next span of `spans` (taken from the end) that has rows; the part carries
    /// the spans left.
    fn read_span(&self, series: &Arc<str>, mut spans: Vec<TimeRange>) -> Result<Option<Part>> {
        while let Some(span) = spans.pop() {
            if let Some(mut part) = self.read_range(series, span)? {
                part.more = spans;
                return Ok(Some(part));
            }
        }
        Ok(None)
    }

    /// Reads one series in `range`: each projected family merged, then joined on `ts`. Returns
    /// the `ts` column and the projected columns (the `series` column is added per output batch).
    fn read_range(&self, series: &Arc<str>, range: TimeRange) -> Result<Option<Part>> {
        let mut runs: Vec<Option<Run>> = Vec::with_capacity(self.projection.families.len());
        for (family, cols) in &self.projection.families {
            let ids: Vec<_> = cols.iter().map(|c| c.id).collect();
            runs.push(self.snapshot.read_series(&self.table, family, series, range, &ids)?);
        }
        let Some(ts) = union_ts(&runs) else { return Ok(None) };
        let n = ts.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(1 + self.projection.output.len());
        // Where a family's rows are exactly the union (always with one family), its columns are
        // used as they are; otherwise they are spread out with `take`.
        let indices: Vec<Option<Option<UInt32Array>>> = runs
            .iter()
            .map(|r| r.as_ref().map(|r| (r.ts.as_ref() != ts.as_ref()).then(|| positions(&ts, &r.ts))))
            .collect();
        columns.push(Arc::new(TimestampNanosecondArray::new(ts, None).with_timezone("UTC")));
        for (idx, col) in &self.projection.output {
            let array = match (runs.get(*idx), indices.get(*idx)) {
                (Some(Some(run)), Some(Some(None))) => run.column_or_null(col.id, col.ty),
                (Some(Some(run)), Some(Some(Some(pos)))) => {
                    take(run.column_or_null(col.id, col.ty).as_ref(), pos, None)?
                }
                _ => arrow_array::new_null_array(&col.ty.arrow_type(), n),
            };
            columns.push(array);
        }
        if self.order == Order::Desc {
            let rev = UInt32Array::from_iter_values((0..n as u32).rev());
            columns = columns.iter().map(|c| take(c.as_ref(), &rev, None)).collect::<Result<Vec<_>, _>>()?;
        }
        Ok(Some(Part { series: series.clone(), rows: n, columns, more: Vec::new() }))
    }

    /// Reads the next group of series (in parallel) into `pending`; false when none is left.
    ///
    /// Each task reads a run of consecutive series: neighbours share SSTable pages, so one task
    /// decodes a shared page once and the next series finds it in the block cache, where tasks
    /// of one series each would decode it concurrently.
    fn read_more(&mut self) -> Result<bool> {
        if self.next >= self.series.len() {
            return Ok(false);
        }
        let threads = rayon::current_num_threads().max(1);
        let end = (self.next + threads * SERIES_PER_TASK).min(self.series.len());
        let keys = self.series.get(self.next..end).unwrap_or_default();
        let per_task = keys.len().div_ceil(threads).max(1);
        let read: Vec<Vec<Part>> = keys
            .par_chunks(per_task)
            .map(|chunk| {
                let mut parts = Vec::with_capacity(chunk.len());
                for key in chunk {
                    parts.extend(self.read_one(key)?);
                }
                Ok(parts)
            })
            .collect::<Result<_>>()?;
        self.next = end;
        self.pending.extend(read.into_iter().flatten());
        self.note_held(0);
        Ok(true)
    }

    /// How many more rows of `series` may be output under `limit_per_series` (`None`: no
    /// limit); starts the count when `series` is not the one being output.
    fn series_left(&mut self, series: &Arc<str>) -> Option<usize> {
        let max = self.per_series?;
        match &self.series_left {
            Some((current, left)) if current == series => Some(*left),
            _ => {
                self.series_left = Some((series.clone(), max));
                Some(max)
            }
        }
    }

    /// The next output batch, or `None` at the end; see [`Scan`] for how parts are combined.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let mut parts: Vec<Part> = Vec::new();
        let mut rows = 0;
        let half = self.batch_rows.div_ceil(2);
        while rows < half && self.remaining != Some(0) {
            let Some(mut part) = self.pending.pop_front() else {
                if self.read_more()? {
                    continue;
                }
                break;
            };
            let series_left = self.series_left(&part.series);
            if series_left == Some(0) {
                // The series is complete: its rest and its spans still to read are dropped.
                continue;
            }
            if let Some(left) = series_left
                && part.rows > left
            {
                part = part.slice(0, left);
            }
            // Cut what exceeds the batch (and the limit); the rest stays first in line.
            let mut want = self.batch_rows - rows;
            if let Some(left) = self.remaining {
                want = want.min(left);
            }
            let more = std::mem::take(&mut part.more);
            if part.rows > want {
                let mut rest = part.slice(want, part.rows - want);
                rest.more = more;
                self.pending.push_front(rest);
                part = part.slice(0, want);
            } else if !more.is_empty()
                && self.remaining.is_none_or(|left| left > part.rows)
                && series_left.is_none_or(|left| left > part.rows)
            {
                // This span is taken whole: the series' next span comes next in line.
                if let Some(follower) = self.read_span(&part.series, more)? {
                    self.pending.push_front(follower);
                    self.note_held(rows + part.rows);
                }
            }
            if let Some(left) = &mut self.remaining {
                *left -= part.rows;
            }
            if let Some((_, left)) = &mut self.series_left {
                *left -= part.rows;
            }
            rows += part.rows;
            parts.push(part);
        }
        if parts.is_empty() {
            return Ok(None);
        }
        assemble(&self.schema, &parts).map(Some)
    }
}

impl Iterator for Scan {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
