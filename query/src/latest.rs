//! The newest data of every matched series: [`latest`].
//!
//! Answered without reading history: per family, the memtables and then the SSTables holding the
//! series, newest first (by the series' largest timestamp in each file), stopping at the first
//! file that cannot hold anything newer than what was found. In each file only the newest chunks
//! are read, walking backwards just as far as tombstones and (per column) nulls require; chunk
//! statistics tell which chunks hold no value of a column, so those are skipped undecoded.
//!
//! - [`LatestMode::Row`]: the newest row: the greatest `ts` at which any requested family has a
//!   row (a family has one where any of its cells was written), with every requested column's
//!   cell at that `ts` (null where absent, even if the column has an older value): the last row
//!   a scan of the same columns returns.
//! - [`LatestMode::PerColumn`]: for each requested column its newest non-null value, followed by
//!   a `family.column.ts` column (timestamp ns UTC, null with the value) holding that value's
//!   time; `ts` is the newest of those times. The answer's columns:
//!
//! ```text
//! Row:        series | ts | a.x | a.y | b.z
//! PerColumn:  series | ts | a.x | a.x.ts | a.y | a.y.ts | b.z | b.z.ts
//! ```

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray, new_null_array};
use arrow_schema::{Field, Schema, SchemaRef};
use arrow_select::concat::concat;
use isobar_storage::ts_arrow_type;
use isobar_storage::{ColumnId, FamilyDef, Run, SeriesSources, Snapshot, TableDef, TimeRange};
use isobar_storage::{marked_column, merge_runs};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::queries::LatestMode;
use crate::queries::LatestQuery;
use crate::resolve::{ResolvedColumns, resolve};

/// Answers `q` over `snapshot`: one row per series that has data, in key order, with the
/// columns of a scan (`series`, `ts`, then `family.column` in the order asked for); in
/// [`LatestMode::PerColumn`] each `family.column` is followed by `family.column.ts`.
pub fn latest(snapshot: &Snapshot, q: &LatestQuery) -> Result<RecordBatch> {
    if q.range.is_empty() {
        return Err(Error::EmptyRange { from: q.range.from, to: q.range.to });
    }
    let table = snapshot.table(&q.table)?.clone();
    let columns = resolve(&table, &q.columns)?;
    let schema = match q.mode {
        LatestMode::Row => columns.scan_schema(),
        LatestMode::PerColumn => with_value_times(&columns.scan_schema()),
    };
    let families: Vec<(FamilyDef, Vec<ColumnId>)> = columns
        .families
        .iter()
        .filter_map(|f| {
            let mut ids: Vec<ColumnId> = f.columns.iter().map(|c| c.id).collect();
            ids.sort_unstable();
            Some((table.family_by_id(f.family)?.clone(), ids))
        })
        .collect();
    let mut series: Vec<Arc<str>> = families.iter().flat_map(|(f, _)| snapshot.series_keys(f, &q.selector)).collect();
    series.sort_unstable();
    series.dedup();
    let ctx = Ctx { snapshot, table: &table, families: &families, columns: &columns, range: q.range };
    let rows: Vec<Option<Row>> = series
        .par_iter()
        .map(|s| match q.mode {
            LatestMode::Row => ctx.newest_row(s),
            LatestMode::PerColumn => ctx.newest_values(s),
        })
        .collect::<Result<_>>()?;
    let rows: Vec<Row> = rows.into_iter().flatten().collect();
    build(&schema, &rows)
}

/// The per-column answer's schema: `scan` with a nullable `<name>.ts` timestamp column after
/// each value column.
fn with_value_times(scan: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = Vec::with_capacity(scan.fields().len() * 2);
    for (i, field) in scan.fields().iter().enumerate() {
        fields.push(field.as_ref().clone());
        if i >= 2 {
            fields.push(Field::new(format!("{}.ts", field.name()), ts_arrow_type(), true));
        }
    }
    Arc::new(Schema::new(fields))
}

/// A 1-slot timestamp array (UTC), null when `ts` is `None`.
fn ts_cell(ts: Option<i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(vec![ts]).with_timezone("UTC"))
}

/// One answer row: each cell a 1-slot array (null where absent).
struct Row {
    series: Arc<str>,
    ts: i64,
    cells: Vec<ArrayRef>,
}

/// Joins the rows into one batch, one concatenation per column.
fn build(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.series.as_ref()))),
        Arc::new(TimestampNanosecondArray::from_iter_values(rows.iter().map(|r| r.ts)).with_timezone("UTC")),
    ];
    for c in 0..schema.fields().len().saturating_sub(2) {
        let cells: Vec<&dyn Array> = rows.iter().filter_map(|r| r.cells.get(c).map(|a| a.as_ref())).collect();
        columns.push(concat(&cells)?);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

struct Ctx<'a> {
    snapshot: &'a Snapshot,
    table: &'a TableDef,
    families: &'a [(FamilyDef, Vec<ColumnId>)],
    columns: &'a ResolvedColumns,
    range: TimeRange,
}

impl Ctx<'_> {
    fn sources(&self, family: &FamilyDef, ids: &[ColumnId], series: &str) -> Result<Option<SeriesSources>> {
        Ok(self.snapshot.series_sources(self.table, family, series, self.range, ids)?)
    }

    /// One answer row: `cell(family index, column id)` gives each cell as a 1-slot array.
    fn row(&self, series: &str, ts: i64, cell: impl Fn(usize, ColumnId) -> Option<ArrayRef>) -> Row {
        let cells = self
            .columns
            .order
            .iter()
            .map(|&(fi, ci)| {
                let fam = &self.columns.families[fi];
                let col = &fam.columns[ci];
                let at = self.families.iter().position(|(f, _)| f.id == fam.family);
                at.and_then(|i| cell(i, col.id)).unwrap_or_else(|| new_null_array(&col.ty.arrow_type(), 1))
            })
            .collect();
        Row { series: Arc::from(series), ts, cells }
    }

    fn newest_row(&self, series: &str) -> Result<Option<Row>> {
        let mut per_family: Vec<Option<Run>> = Vec::with_capacity(self.families.len());
        for (family, ids) in self.families {
            let newest = match self.sources(family, ids, series)? {
                Some(src) => newest_row_of(&src, family, ids)?,
                None => None,
            };
            per_family.push(newest);
        }
        let Some(ts) = per_family.iter().flatten().filter_map(|r| r.ts.last().copied()).max() else {
            return Ok(None);
        };
        // Families whose newest row is older: their cells at `ts` (none, by construction).
        let cells: Vec<Option<Run>> = per_family.into_iter().map(|r| r.filter(|r| r.ts.last() == Some(&ts))).collect();
        let row = self.row(series, ts, |fi, id| {
            cells.get(fi)?.as_ref().and_then(|r| r.column(id).map(|a| a.slice(r.len() - 1, 1)))
        });
        Ok(Some(row))
    }

    fn newest_values(&self, series: &str) -> Result<Option<Row>> {
        let mut found: Vec<Vec<(ColumnId, Newest)>> = Vec::with_capacity(self.families.len());
        for (family, ids) in self.families {
            let values = match self.sources(family, ids, series)? {
                // An explicit null can hide a value of another source at the same time, which
                // the per-source search below cannot see: merge the history instead (rare).
                Some(src) if holds_null_markers(&src) => {
                    match self.snapshot.read_series(self.table, family, series, self.range, ids)? {
                        Some(run) => {
                            let mut best: Vec<Option<Newest>> = vec![None; ids.len()];
                            scan_run(&run, ids, &mut best, &mut vec![true; ids.len()]);
                            ids.iter().zip(best).filter_map(|(id, b)| b.map(|b| (*id, b))).collect()
                        }
                        None => Vec::new(),
                    }
                }
                Some(src) => newest_values_of(&src, ids)?,
                None => Vec::new(),
            };
            found.push(values);
        }
        let Some(ts) = found.iter().flatten().map(|(_, n)| n.ts).max() else { return Ok(None) };
        let newest = |fi: usize, id: ColumnId| found.get(fi)?.iter().find(|(c, _)| *c == id).map(|(_, n)| n);
        let values = self.row(series, ts, |fi, id| newest(fi, id).map(|n| n.value.clone()));
        let times = self.row(series, ts, |fi, id| Some(ts_cell(newest(fi, id).map(|n| n.ts))));
        // Each value followed by its time.
        let cells = values.cells.into_iter().zip(times.cells).flat_map(|(v, t)| [v, t]).collect();
        Ok(Some(Row { cells, ..values }))
    }
}

/// The newest visible row of a family (a one-row run), merged across the sources holding it.
fn newest_row_of(src: &SeriesSources, family: &FamilyDef, ids: &[ColumnId]) -> Result<Option<Run>> {
    let mut candidates: Vec<Run> =
        src.memtables.iter().filter(|r| !r.is_empty()).map(|r| r.slice(r.len() - 1, 1)).collect();
    let mut newest = candidates.iter().filter_map(|r| r.ts.last().copied()).max();
    for fi in newest_first(src) {
        let file = &src.files[fi];
        if newest.is_some_and(|n| file.entry.max_ts < n) {
            break; // this file and every later one only hold older rows
        }
        for chunk in file.chunks().iter().rev().filter(|c| src.range.overlaps(c.min_ts, c.max_ts)) {
            if let Some(run) = src.read_chunk(fi, chunk, ids)? {
                let last = run.ts[run.len() - 1];
                newest = Some(newest.map_or(last, |n| n.max(last)));
                candidates.push(run.slice(run.len() - 1, 1));
                break;
            }
        }
    }
    let Some(newest) = candidates.iter().filter_map(|r| r.ts.last().copied()).max() else { return Ok(None) };
    candidates.retain(|r| r.ts.last() == Some(&newest));
    let types = |id| family.stored_type(id);
    Ok(merge_runs(candidates, &types))
}

/// True when a source of the series may hold explicit nulls (cells of null-marker columns).
fn holds_null_markers(src: &SeriesSources) -> bool {
    let marker = |id: ColumnId| marked_column(id).is_some();
    src.memtables.iter().any(|r| r.columns.iter().any(|(id, a)| marker(*id) && a.null_count() < a.len()))
        || src.files.iter().any(|f| f.reader().info().columns.iter().any(|c| marker(c.id)))
}

/// Indexes of the files, newest data first (by the series' largest timestamp in each).
fn newest_first(src: &SeriesSources) -> Vec<usize> {
    let mut order: Vec<usize> = (0..src.files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(src.files[i].entry.max_ts));
    order
}

/// The newest non-null value of a column: its time, sequence number and a 1-slot array.
#[derive(Clone, Debug)]
struct Newest {
    ts: i64,
    seq: u64,
    value: ArrayRef,
}

impl Newest {
    fn better_than(&self, other: Option<&Newest>) -> bool {
        other.is_none_or(|o| (self.ts, self.seq) > (o.ts, o.seq))
    }
}

/// The newest non-null value of each column in `ids` within one run.
fn scan_run(run: &Run, ids: &[ColumnId], best: &mut [Option<Newest>], pending: &mut [bool]) {
    for (k, id) in ids.iter().enumerate() {
        if !pending[k] {
            continue;
        }
        let Some(array) = run.column(*id) else { continue };
        if array.null_count() == array.len() {
            continue;
        }
        if let Some(i) = (0..array.len()).rev().find(|i| array.is_valid(*i)) {
            let cand = Newest { ts: run.ts[i], seq: run.seq[i], value: array.slice(i, 1) };
            if cand.better_than(best[k].as_ref()) {
                best[k] = Some(cand);
            }
            pending[k] = false;
        }
    }
}

/// The newest non-null value of every column in `ids` over all sources.
fn newest_values_of(src: &SeriesSources, ids: &[ColumnId]) -> Result<Vec<(ColumnId, Newest)>> {
    let mut best: Vec<Option<Newest>> = vec![None; ids.len()];
    for run in &src.memtables {
        scan_run(run, ids, &mut best, &mut vec![true; ids.len()]);
    }
    for fi in newest_first(src) {
        let file = &src.files[fi];
        if best.iter().all(|b| b.as_ref().is_some_and(|b| b.ts > file.entry.max_ts)) {
            break; // every column has a value newer than anything this file or a later one holds
        }
        let mut pending = vec![true; ids.len()];
        for chunk in file.chunks().iter().rev().filter(|c| src.range.overlaps(c.min_ts, c.max_ts)) {
            if !pending.iter().any(|p| *p) {
                break;
            }
            let useful = ids
                .iter()
                .zip(&pending)
                .any(|(id, p)| *p && file.reader().chunk_stats(chunk, *id).is_some_and(|s| s.non_null > 0));
            // Every value a later chunk could still give is older than what was found already?
            let stale = ids
                .iter()
                .zip(&pending)
                .zip(&best)
                .all(|((_, p), b)| !*p || b.as_ref().is_some_and(|b| b.ts > chunk.max_ts));
            if !useful || stale {
                if stale {
                    break;
                }
                continue;
            }
            if let Some(run) = src.read_chunk(fi, chunk, ids)? {
                scan_run(&run, ids, &mut best, &mut pending);
            }
        }
    }
    Ok(ids.iter().zip(best).filter_map(|(id, b)| b.map(|b| (*id, b))).collect())
}
