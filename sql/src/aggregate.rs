//! [`AggregateRead`]: a grouped aggregate answered by the engine's aggregate path
//! ([`isobar_query::aggregate`]: chunk statistics where they are exact, decoding elsewhere),
//! one [`AggregateQuery`] per series selector, its columns put in the order of the SQL
//! `Aggregate` it replaced.
//!
//! Beside the aggregates the query asks for, it counts every column of the families whose rows
//! the relation shows: the engine leaves out a bucket where no asked column has a value, SQL
//! keeps a group wherever a row is, and a row is where some cell of those families is.

use std::any::Any;
use std::fmt;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use datafusion::arrow::compute::cast;
use datafusion::error::Result;
use isobar_query::{AggregateQuery, Fill, GroupBy};
use isobar_storage::{SeriesSelector, Snapshot};

use crate::exec::{EngineRead, engine_err};
use crate::scan::{write_range, write_series};

/// Where an output column of the SQL aggregate comes from in the engine's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The `series` column.
    Series,
    /// The bucket start (`ts`).
    Bucket,
    /// The engine's aggregation number `i`.
    Aggregation(usize),
}

/// An aggregate the engine answers.
#[derive(Debug)]
pub(crate) struct AggregateRead {
    pub(crate) snapshot: Snapshot,
    /// `schema.name` of the relation, for `EXPLAIN`.
    pub(crate) relation: String,
    /// The query (its selector is replaced by each of `selectors` in turn).
    pub(crate) query: AggregateQuery,
    /// How many of `query.aggregations` the SQL asks for (the rest count rows for existence).
    pub(crate) asked: usize,
    pub(crate) selectors: Vec<SeriesSelector>,
    /// Per output column, its source.
    pub(crate) output: Vec<Source>,
    pub(crate) schema: SchemaRef,
    /// Grouped by `date_bin_gapfill`: empty buckets of the range are filled.
    pub(crate) gapfill: bool,
}

impl AggregateRead {
    /// The same read filling empty buckets with `fill`.
    pub(crate) fn with_fill(&self, fill: Fill) -> Self {
        let mut query = self.query.clone();
        query.fill = fill;
        Self {
            snapshot: self.snapshot.clone(),
            relation: self.relation.clone(),
            query,
            asked: self.asked,
            selectors: self.selectors.clone(),
            output: self.output.clone(),
            schema: self.schema.clone(),
            gapfill: self.gapfill,
        }
    }

    fn project(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.output.len());
        for (source, field) in self.output.iter().zip(self.schema.fields()) {
            let index = match source {
                Source::Series => 0,
                Source::Bucket => 1,
                Source::Aggregation(i) => 2 + i,
            };
            let column = batch.column(index);
            columns.push(if column.data_type() == field.data_type() {
                column.clone()
            } else {
                cast(column, field.data_type())?
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

impl EngineRead for AggregateRead {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "aggregate {}", self.relation)?;
        let asked: Vec<String> = self
            .query
            .aggregations
            .iter()
            .take(self.asked)
            .map(|a| format!("{}({})", a.function.name(), a.column))
            .collect();
        write!(f, " functions=[{}]", asked.join(", "))?;
        if self.query.aggregations.len() > self.asked {
            write!(f, " existence=count({} columns)", self.query.aggregations.len() - self.asked)?;
        }
        match self.query.group_by {
            GroupBy::Series => write!(f, " group=series")?,
            GroupBy::None => write!(f, " group=all")?,
        }
        if let Some(b) = &self.query.bucket {
            match b.months {
                0 => write!(f, " bucket={}", duration_text(b.width_ns))?,
                m if m % 12 == 0 => write!(f, " bucket={}y", m / 12)?,
                m => write!(f, " bucket={m}mo")?,
            }
            if b.origin_ns != 0 {
                write!(f, " origin={}", crate::scan::rfc3339(b.origin_ns))?;
            }
            if let Some(zone) = &b.time_zone {
                write!(f, " tz={zone}")?;
            }
        }
        if self.query.fill != Fill::None {
            write!(f, " fill={:?}", self.query.fill)?;
        }
        write_series(f, &self.selectors, &[])?;
        write_range(f, self.query.range)
    }

    fn run(&self, _batch_rows: usize, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<()> {
        for selector in &self.selectors {
            let mut query = self.query.clone();
            query.selector = selector.clone();
            for batch in isobar_query::aggregate(&self.snapshot, &query).map_err(engine_err)? {
                if batch.num_rows() > 0 && !emit(self.project(&batch)?) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `1h`, `15m`, `1d`, ... for `EXPLAIN`.
fn duration_text(ns: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    for (unit, name) in UNITS {
        if ns % unit == 0 {
            return format!("{}{name}", ns / unit);
        }
    }
    format!("{ns}ns")
}
