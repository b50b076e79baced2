//! [`ScanRead`]: a relation scan answered by the engine's range scan
//! ([`isobar_storage::Snapshot::scan`]) with the projection, series selectors, time range and
//! limit pushed into one [`ScanRequest`] per selector.
//!
//! Row existence follows the engine's rule: the engine returns a row where one of the families
//! it reads has one, so a scan reads every family whose rows the relation shows (all of them for
//! a table relation, its own for a family relation) even when no column of that family is
//! projected: such a family adds its first column to the request, which is dropped from the
//! output.

use std::fmt;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::SchemaRef;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::error::{DataFusionError, Result};
use isobar_storage::{ScanRequest, SeriesSelector, Snapshot};

use crate::exec::{EngineRead, engine_err};

/// A scan of one relation.
#[derive(Debug)]
pub(crate) struct ScanRead {
    pub(crate) snapshot: Snapshot,
    /// `schema.name` of the relation, for `EXPLAIN`.
    pub(crate) relation: String,
    /// The engine request (its selector is replaced by each of `selectors` in turn).
    pub(crate) request: ScanRequest,
    /// Selectors scanned one after the other, in key order.
    pub(crate) selectors: Vec<SeriesSelector>,
    /// Series conditions checked on the rows read (rarely needed; see `pushdown`).
    pub(crate) post: Vec<SeriesSelector>,
    /// For each output column, its index in the engine's batches.
    pub(crate) output: Vec<usize>,
    /// The output schema.
    pub(crate) schema: SchemaRef,
    /// The value columns projected (for `EXPLAIN`; the request may read more for existence).
    pub(crate) projected: Vec<String>,
}

impl EngineRead for ScanRead {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scan {} columns=[{}]", self.relation, self.projected.join(", "))?;
        if self.request.columns.len() > self.projected.len() {
            let extra = self.request.columns.get(self.projected.len()..).unwrap_or_default();
            write!(f, " existence=[{}]", extra.join(", "))?;
        }
        write_series(f, &self.selectors, &self.post)?;
        write_range(f, self.request.range)?;
        if let Some(limit) = self.request.limit {
            write!(f, " limit={limit}")?;
        }
        Ok(())
    }

    fn run(&self, batch_rows: usize, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<()> {
        let mut remaining = self.request.limit;
        for selector in &self.selectors {
            if remaining == Some(0) {
                break;
            }
            let mut req = self.request.clone();
            req.selector = selector.clone();
            req.limit = remaining;
            req.batch_rows = batch_rows;
            for batch in self.snapshot.scan(&req).map_err(engine_err)? {
                let batch = self.filter(batch.map_err(engine_err)?)?;
                if batch.num_rows() == 0 {
                    continue;
                }
                if let Some(r) = remaining.as_mut() {
                    *r = r.saturating_sub(batch.num_rows());
                }
                if !emit(self.project(&batch)?) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl ScanRead {
    /// The snapshot read.
    pub(crate) fn snapshot_ref(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Keeps the rows whose series meets every post condition.
    pub(crate) fn filter(&self, batch: RecordBatch) -> Result<RecordBatch> {
        if self.post.is_empty() {
            return Ok(batch);
        }
        let series = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal("the engine's series column is not Utf8".into()))?;
        let keep: BooleanArray =
            (0..series.len()).map(|i| Some(self.post.iter().all(|s| s.matches(series.value(i))))).collect();
        Ok(filter_record_batch(&batch, &keep)?)
    }

    /// The output columns of an engine batch.
    pub(crate) fn project(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = self.output.iter().map(|&i| batch.column(i).clone()).collect();
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

/// ` series=...` for `EXPLAIN` (nothing when every series is read).
pub(crate) fn write_series(
    f: &mut fmt::Formatter<'_>,
    selectors: &[SeriesSelector],
    post: &[SeriesSelector],
) -> fmt::Result {
    match selectors {
        [SeriesSelector::All] => {}
        [] => write!(f, " series=none")?,
        [one] => write!(f, " series={}", selector_text(one))?,
        many if many.iter().all(|s| s.exact().is_some()) => {
            let keys: Vec<&str> = many.iter().filter_map(|s| s.exact()).collect();
            write!(f, " series=in({})", keys.join(", "))?;
        }
        many => {
            let texts: Vec<String> = many.iter().map(selector_text).collect();
            write!(f, " series=[{}]", texts.join(", "))?;
        }
    }
    for p in post {
        write!(f, " and series={}", selector_text(p))?;
    }
    Ok(())
}

/// ` ts=[from, to)` for `EXPLAIN` (nothing when every time is read), in RFC 3339.
pub(crate) fn write_range(f: &mut fmt::Formatter<'_>, range: isobar_storage::TimeRange) -> fmt::Result {
    if range == isobar_storage::TimeRange::ALL {
        return Ok(());
    }
    let side = |t: i64, open: i64| if t == open { "..".to_string() } else { rfc3339(t) };
    write!(f, " ts=[{}, {})", side(range.from, i64::MIN), side(range.to, i64::MAX))
}

fn selector_text(s: &SeriesSelector) -> String {
    match s {
        SeriesSelector::All => "all".into(),
        SeriesSelector::Exact(k) => format!("{k:?}"),
        SeriesSelector::Prefix(p) => format!("prefix({p:?})"),
        SeriesSelector::Range { start, end } => {
            format!(
                "range({}, {})",
                start.as_deref().map_or("..".into(), |s| format!("{s:?}")),
                end.as_deref().map_or("..".into(), |e| format!("{e:?}"))
            )
        }
    }
}

/// A nanosecond timestamp in RFC 3339 (UTC), or the number when out of chrono's range.
pub(crate) fn rfc3339(ns: i64) -> String {
    let dt = datafusion::common::arrow::temporal_conversions::timestamp_ns_to_datetime(ns);
    dt.map_or_else(|| ns.to_string(), |d| d.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}
