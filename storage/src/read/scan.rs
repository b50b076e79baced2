//! Range scans: series selector x time range x projection -> Arrow record batches.
//!
//! A scan resolves its projection against the table, lists the selected series of every projected
//! family, then reads series in groups (in parallel on the rayon pool), joins the families of a
//! series on `ts`, and yields record batches of about `batch_rows` rows: `series` (utf8),
//! `ts` (timestamp ns UTC), then one nullable column per `family.column` in the order asked for.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array};
use arrow_schema::{Field, Schema, SchemaRef};
use arrow_select::concat::concat;
use arrow_select::take::take;
use rayon::prelude::*;

use super::snapshot::{Snapshot, unknown_column};
use crate::error::{InvalidInput, Result};
use crate::run::Run;
use crate::schema::{ColumnDef, FamilyDef, TableDef, ts_arrow_type};
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

/// A resolved projection: for each family read, its columns; and the output order.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Families to read with the ids of their columns (ascending).
    pub families: Vec<(FamilyDef, Vec<ColumnDef>)>,
    /// Output columns in order: (index into `families`, column).
    pub output: Vec<(usize, ColumnDef)>,
}

impl Projection {
    /// Resolves `columns` (`family.column`, `family.*`; empty = all) against `table`.
    pub fn resolve(table: &TableDef, columns: &[String]) -> Result<Projection, InvalidInput> {
        let mut wanted: Vec<(&FamilyDef, ColumnDef)> = Vec::new();
        if columns.is_empty() {
            for f in &table.families {
                wanted.extend(f.columns.iter().map(|c| (f, c.clone())));
            }
        }
        for spec in columns {
            let Some((fam, col)) = spec.split_once('.') else {
                return Err(InvalidInput::Impossible(format!(
                    "column \"{spec}\" must be written family.column or family.* (table \"{}\" has families: {})",
                    table.name,
                    crate::catalog::known_families(table)
                )));
            };
            let family = table.family(fam).ok_or_else(|| InvalidInput::UnknownFamily {
                table: table.name.clone(),
                family: fam.to_string(),
                known: crate::catalog::known_families(table),
            })?;
            if col == "*" {
                wanted.extend(family.columns.iter().map(|c| (family, c.clone())));
            } else {
                let c = family.column(col).ok_or_else(|| unknown_column(table, family, col))?;
                wanted.push((family, c.clone()));
            }
        }
        let mut out = Projection { families: Vec::new(), output: Vec::new() };
        for (family, column) in wanted {
            let idx = match out.families.iter().position(|(f, _)| f.id == family.id) {
                Some(i) => i,
                None => {
                    out.families.push((family.clone(), Vec::new()));
                    out.families.len() - 1
                }
            };
            if out.output.iter().any(|(i, c)| *i == idx && c.id == column.id) {
                continue;
            }
            out.families[idx].1.push(column.clone());
            out.output.push((idx, column));
        }
        for (_, cols) in &mut out.families {
            cols.sort_by_key(|c| c.id);
        }
        Ok(out)
    }

    /// The Arrow schema of the scan output.
    pub fn schema(&self) -> SchemaRef {
        let mut fields =
            vec![Field::new("series", arrow_schema::DataType::Utf8, false), Field::new("ts", ts_arrow_type(), false)];
        for (idx, col) in &self.output {
            let family = &self.families[*idx].0;
            fields.push(Field::new(format!("{}.{}", family.name, col.name), col.ty.arrow_type(), true));
        }
        Arc::new(Schema::new(fields))
    }
}

/// An iterator of record batches; see the module docs.
pub struct Scan {
    snapshot: Snapshot,
    table: TableDef,
    projection: Projection,
    schema: SchemaRef,
    series: Vec<Arc<str>>,
    next: usize,
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

    /// Reads one series: each projected family merged, then joined on `ts`.
    fn read_one(&self, series: &str) -> Result<Option<RecordBatch>> {
        let mut runs: Vec<Option<Run>> = Vec::with_capacity(self.projection.families.len());
        for (family, cols) in &self.projection.families {
            let ids: Vec<_> = cols.iter().map(|c| c.id).collect();
            runs.push(self.snapshot.read_series(&self.table, family, series, self.range, &ids)?);
        }
        let Some(ts) = union_ts(&runs) else { return Ok(None) };
        let n = ts.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(2 + self.projection.output.len());
        columns.push(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(series, n))));
        columns.push(Arc::new(TimestampNanosecondArray::new(ts.clone().into(), None).with_timezone("UTC")));
        let indices: Vec<Option<UInt32Array>> =
            runs.iter().map(|r| r.as_ref().map(|r| positions(&ts, &r.ts))).collect();
        for (idx, col) in &self.projection.output {
            let array = match (&runs[*idx], &indices[*idx]) {
                (Some(run), Some(pos)) => {
                    let a = run.column_or_null(col.id, col.ty);
                    if pos.null_count() == 0 && a.len() == n { a } else { take(a.as_ref(), pos, None)? }
                }
                _ => arrow_array::new_null_array(&col.ty.arrow_type(), n),
            };
            columns.push(array);
        }
        let mut batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        if self.order == Order::Desc {
            let rev = UInt32Array::from_iter_values((0..n as u32).rev());
            let cols = batch.columns().iter().map(|c| take(c.as_ref(), &rev, None)).collect::<Result<Vec<_>, _>>()?;
            batch = RecordBatch::try_new(self.schema.clone(), cols)?;
        }
        Ok(Some(batch))
    }
}

/// Sorted union of the timestamps of the runs present.
fn union_ts(runs: &[Option<Run>]) -> Option<Vec<i64>> {
    let present: Vec<&Run> = runs.iter().flatten().collect();
    match present.as_slice() {
        [] => None,
        [one] => Some(one.ts.to_vec()),
        many => {
            let mut ts: Vec<i64> = many.iter().flat_map(|r| r.ts.iter().copied()).collect();
            ts.sort_unstable();
            ts.dedup();
            Some(ts)
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
        let mut parts: Vec<RecordBatch> = Vec::new();
        let mut rows = 0;
        let group = rayon::current_num_threads().max(1) * 4;
        while rows < self.batch_rows && self.next < self.series.len() && self.remaining != Some(0) {
            let end = (self.next + group).min(self.series.len());
            let keys = &self.series[self.next..end];
            self.next = end;
            let read: Result<Vec<Option<RecordBatch>>> = keys.par_iter().map(|k| self.read_one(k)).collect();
            let read = match read {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            for batch in read.into_iter().flatten() {
                let batch = match &mut self.remaining {
                    Some(0) => break,
                    Some(left) => {
                        let take = batch.num_rows().min(*left);
                        *left -= take;
                        batch.slice(0, take)
                    }
                    None => batch,
                };
                rows += batch.num_rows();
                parts.push(batch);
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(concat_batches(&self.schema, &parts))
    }
}

fn concat_batches(schema: &SchemaRef, parts: &[RecordBatch]) -> Result<RecordBatch> {
    if let [one] = parts {
        return Ok(one.clone());
    }
    let mut columns = Vec::with_capacity(schema.fields().len());
    for i in 0..schema.fields().len() {
        let arrays: Vec<&dyn Array> = parts.iter().map(|b| b.column(i).as_ref()).collect();
        columns.push(concat(&arrays)?);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
