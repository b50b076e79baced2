//! Range scans: series selector x time range x projection -> Arrow record batches.
//!
//! A scan resolves its projection against the table, lists the selected series of every projected
//! family, then reads series in groups (in parallel on the rayon pool), joins the families of a
//! series on `ts`, and yields record batches of `batch_rows / 2 ..= batch_rows` rows (fewer at the
//! end): `series` (utf8), `ts` (timestamp ns UTC), then one nullable column per `family.column`
//! in the order asked for.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, TimestampNanosecondArray, UInt32Array};
use arrow_buffer::ScalarBuffer;
use arrow_schema::SchemaRef;
use arrow_select::concat::concat;
use arrow_select::take::take;
use rayon::prelude::*;

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
    range: TimeRange,
    order: Order,
    batch_rows: usize,
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
            range: req.range,
            order: req.order,
            batch_rows: req.batch_rows.max(1),
        })
    }
}

impl crate::db::Db {
    /// Scans and collects every batch (convenient for small results; use
    /// [`Snapshot::scan`] to stream large ones).
    pub fn scan(&self, req: &ScanRequest) -> Result<Vec<RecordBatch>> {
        self.snapshot().scan(req)?.collect()
    }
}

impl Scan {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Reads one series: each projected family merged, then joined on `ts`. Returns the `ts`
    /// column and the projected columns (the `series` column is added per output batch).
    fn read_one(&self, series: &Arc<str>) -> Result<Option<Part>> {
        let mut runs: Vec<Option<Run>> = Vec::with_capacity(self.projection.families.len());
        for (family, cols) in &self.projection.families {
            let ids: Vec<_> = cols.iter().map(|c| c.id).collect();
            runs.push(self.snapshot.read_series(&self.table, family, series, self.range, &ids)?);
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
            let array = match (&runs[*idx], &indices[*idx]) {
                (Some(run), Some(None)) => run.column_or_null(col.id, col.ty),
                (Some(run), Some(Some(pos))) => take(run.column_or_null(col.id, col.ty).as_ref(), pos, None)?,
                _ => arrow_array::new_null_array(&col.ty.arrow_type(), n),
            };
            columns.push(array);
        }
        if self.order == Order::Desc {
            let rev = UInt32Array::from_iter_values((0..n as u32).rev());
            columns = columns.iter().map(|c| take(c.as_ref(), &rev, None)).collect::<Result<Vec<_>, _>>()?;
        }
        Ok(Some(Part { series: series.clone(), rows: n, columns }))
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
        let keys = &self.series[self.next..end];
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
        Ok(true)
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
            // Cut what exceeds the batch (and the limit); the rest stays first in line.
            let mut want = self.batch_rows - rows;
            if let Some(left) = self.remaining {
                want = want.min(left);
            }
            if part.rows > want {
                self.pending.push_front(part.slice(want, part.rows - want));
                part = part.slice(0, want);
            }
            if let Some(left) = &mut self.remaining {
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

/// The rows of one series, ready for output: `ts` then the projected columns.
struct Part {
    series: Arc<str>,
    rows: usize,
    columns: Vec<ArrayRef>,
}

impl Part {
    /// Rows `offset..offset + len` (zero-copy).
    fn slice(&self, offset: usize, len: usize) -> Part {
        let columns = self.columns.iter().map(|c| c.slice(offset, len)).collect();
        Part { series: self.series.clone(), rows: len, columns }
    }
}

/// One record batch from consecutive parts: the `series` column is built once for the whole
/// batch; the other columns are used as they are when there is one part, concatenated otherwise.
fn assemble(schema: &SchemaRef, parts: &[Part]) -> Result<RecordBatch> {
    let rows = parts.iter().map(|p| p.rows).sum();
    let bytes = parts.iter().map(|p| p.rows * p.series.len()).sum();
    let mut keys = StringBuilder::with_capacity(rows, bytes);
    for p in parts {
        for _ in 0..p.rows {
            keys.append_value(p.series.as_ref());
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    columns.push(Arc::new(keys.finish()));
    match parts {
        [one] => columns.extend(one.columns.iter().cloned()),
        _ => {
            for i in 0..schema.fields().len() - 1 {
                let arrays: Vec<&dyn Array> =
                    parts.iter().filter_map(|p| p.columns.get(i)).map(|a| a.as_ref()).collect();
                columns.push(concat(&arrays)?);
            }
        }
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Sorted union of the timestamps of the runs present (zero-copy when only one is).
fn union_ts(runs: &[Option<Run>]) -> Option<ScalarBuffer<i64>> {
    let present: Vec<&Run> = runs.iter().flatten().collect();
    match present.as_slice() {
        [] => None,
        [one] => Some(one.ts.clone()),
        many if many.windows(2).all(|w| w[0].ts == w[1].ts) => Some(many[0].ts.clone()),
        many => {
            let mut ts: Vec<i64> = many.iter().flat_map(|r| r.ts.iter().copied()).collect();
            ts.sort_unstable();
            ts.dedup();
            Some(ts.into())
        }
    }
}

/// For each time in `all`, its row in `own` (null where `own` has no row).
fn positions(all: &[i64], own: &[i64]) -> UInt32Array {
    let mut j = 0;
    all.iter()
        .map(|t| {
            while j < own.len() && own[j] < *t {
                j += 1;
            }
            (j < own.len() && own[j] == *t).then_some(j as u32)
        })
        .collect()
}

impl Iterator for Scan {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
