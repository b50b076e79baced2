//! Optimizer rule: time-bucketed aggregates answered by the engine's aggregate path.
//!
//! An `Aggregate` directly over a scan of an Isobar relation becomes an [`EngineNode`] running
//! an [`AggregateRead`] when all of these hold (anything else stays with DataFusion, which
//! aggregates the scanned rows and gets the same answer):
//!
//! - it groups by `series`, by one time bucket, or both; and by nothing else. A time bucket is
//!   `date_bin(<fixed interval>, ts [, <origin>])` (also as `time_bucket` or `date_bin_gapfill`),
//!   `date_bin(<months>, ts)` (calendar months in UTC), `time_bucket(<days or months>, ts, <zone>)`
//!   (local days, calendar months), or `date_trunc(<unit>, ts [, <zone>])` where the engine has
//!   the same buckets ([`crate::calendar::trunc_bucket`]: months, quarters, years and local
//!   days always; weeks and shorter units where they are fixed widths over the queried range);
//! - every aggregate is `avg`, `min`, `max`, `sum`, `count` of a column (not `count(*)`, no
//!   `DISTINCT`, no `FILTER`), or `first_value` / `last_value` of a column ordered by `ts`
//!   (ascending or descending) that ignores nulls (`IGNORE NULLS`) or cannot be null (the only
//!   column of a family relation), because the engine's first and last skip nulls;
//! - the scan has no row limit, and its filters became selectors the engine can aggregate (one
//!   selector when not grouping by series).
//!
//! Gap filling: grouping by `date_bin_gapfill` fills the empty buckets of the (bounded) `ts`
//! range with nulls; `locf(<aggregate>)` or `interpolate(<aggregate>)` in the `SELECT` above
//! fill them with the previous value or linearly instead (every aggregate of the query the
//! same way).

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::source_as_provider;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::{AggregateFunction as AggExpr, NullTreatment, ScalarFunction};
use datafusion::logical_expr::{Aggregate, Expr, Extension, LogicalPlan, Projection};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use isobar_query::{AggregateFunction, AggregateQuery, Aggregation, Bucket, Fill, GroupBy};
use isobar_storage::TimeRange;

use crate::aggregate::{AggregateRead, Source};
use crate::node::EngineNode;
use crate::provider::IsobarTable;
use crate::pushdown::Pushed;

/// The rule; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct PushDownAggregate;

impl OptimizerRule for PushDownAggregate {
    fn name(&self) -> &str {
        "isobar_push_down_aggregate"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        match &plan {
            LogicalPlan::Aggregate(agg) => match aggregate_read(agg)? {
                Some(read) => Ok(Transformed::yes(LogicalPlan::Extension(Extension {
                    node: Arc::new(EngineNode { read: Arc::new(read), schema: agg.schema.clone() }),
                }))),
                None => Ok(Transformed::no(plan)),
            },
            LogicalPlan::Projection(p) => fill_projection(p).map(|new| match new {
                Some(new) => Transformed::yes(LogicalPlan::Projection(new)),
                None => Transformed::no(plan),
            }),
            _ => Ok(Transformed::no(plan)),
        }
    }
}

/// The engine read answering `agg`, if it can.
fn aggregate_read(agg: &Aggregate) -> Result<Option<AggregateRead>> {
    let LogicalPlan::TableScan(scan) = agg.input.as_ref() else { return Ok(None) };
    if scan.fetch.is_some() {
        return Ok(None);
    }
    let Ok(provider) = source_as_provider(&scan.source) else { return Ok(None) };
    let Some(table) = provider.downcast_ref::<IsobarTable>() else { return Ok(None) };
    let pushed = Pushed::from_filters(&scan.filters);
    let def = table.def();
    // Explicit nulls make rows whose every value is null: the engine's aggregates (which see
    // values only) would drop such a group and take first/last over values only. DataFusion
    // answers those relations (rare: only families that were written explicit nulls).
    let shown = def.table.families.iter().filter(|f| def.family.as_ref().is_none_or(|d| d.id == f.id));
    if shown.into_iter().any(|f| table.snapshot().holds_null_markers(f)) {
        return Ok(None);
    }

    let mut output = Vec::new();
    let (mut by_series, mut bucket, mut gapfill) = (false, None, false);
    for g in &agg.group_expr {
        // `time_bucket('60s', ts)` reaches here as `date_bin(...) AS time_bucket(...)`.
        let g = match g {
            Expr::Alias(alias) => alias.expr.as_ref(),
            other => other,
        };
        match g {
            Expr::Column(c) if c.name == "series" && !by_series => {
                by_series = true;
                output.push(Source::Series);
            }
            Expr::ScalarFunction(f) if bucket.is_none() => match bucket_of(f, pushed.range) {
                Some((b, fill)) => {
                    bucket = Some(b);
                    gapfill = fill;
                    output.push(Source::Bucket);
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
    if !by_series && bucket.is_none() {
        return Ok(None); // a global aggregate answers one row even over nothing: DataFusion's job
    }

    let only_column = def.family.as_ref().is_some_and(|f| f.columns.len() == 1);
    let mut aggregations = Vec::new();
    for (i, a) in agg.aggr_expr.iter().enumerate() {
        let Some((function, column)) = aggregation_of(a.clone().unalias(), only_column) else { return Ok(None) };
        let Some(index) = def.schema.index_of(&column).ok().and_then(|i| i.checked_sub(2)) else { return Ok(None) };
        let Some((engine_name, _)) = def.columns.get(index) else { return Ok(None) };
        let column_ref = engine_name.parse().map_err(|e| DataFusionError::Plan(format!("{e}")))?;
        let mut aggregation = Aggregation::new(function, column_ref);
        aggregation.alias = Some(format!("a{i}"));
        aggregations.push(aggregation);
        output.push(Source::Aggregation(i));
    }
    let asked = aggregations.len();
    // Existence: count every column of the shown families (see crate::aggregate).
    for family in &def.table.families {
        if def.family.as_ref().is_some_and(|f| f.id != family.id) {
            continue;
        }
        for column in &family.columns {
            let column_ref = format!("{}.{}", family.name, column.name)
                .parse()
                .map_err(|e| DataFusionError::Plan(format!("{e}")))?;
            let mut aggregation = Aggregation::new(AggregateFunction::Count, column_ref);
            aggregation.alias = Some(format!("e{}", aggregations.len()));
            aggregations.push(aggregation);
        }
    }

    let plan = pushed.series_plan();
    if !plan.post.is_empty() || (!by_series && plan.selectors.len() != 1) {
        return Ok(None);
    }
    if gapfill && (pushed.range.from == i64::MIN || pushed.range.to == i64::MAX) {
        return Err(DataFusionError::Plan(
            "date_bin_gapfill needs a bounded time range: add WHERE ts >= '<start>' AND ts < '<end>' \
             (which buckets are empty otherwise?)"
                .into(),
        ));
    }
    let mut query = AggregateQuery::new(def.table.name.clone(), aggregations);
    query.range = pushed.range;
    query.bucket = bucket;
    query.group_by = if by_series { GroupBy::Series } else { GroupBy::None };
    query.fill = if gapfill { Fill::Null } else { Fill::None };
    query.push_down = true;
    Ok(Some(AggregateRead {
        snapshot: table.snapshot().clone(),
        relation: def.sql_name(),
        query,
        asked,
        selectors: plan.selectors,
        output,
        schema: Arc::new(agg.schema.as_arrow().clone()),
        gapfill,
    }))
}

/// A time-bucket function of `ts` as an engine bucket over `range`, and whether it is the
/// gap-filling variant.
fn bucket_of(f: &ScalarFunction, range: TimeRange) -> Option<(Bucket, bool)> {
    match f.func.name() {
        "date_bin" | "time_bucket" => bin_of(f, false),
        "date_bin_gapfill" => bin_of(f, true),
        "date_trunc" => trunc_of(f, range).map(|b| (b, false)),
        _ => None,
    }
}

/// Whether `e` is the `ts` column.
fn is_ts(e: &Expr) -> bool {
    matches!(e, Expr::Column(Column { name, .. }) if name == "ts")
}

/// `date_bin(interval, ts [, origin])` (or `time_bucket`, `date_bin_gapfill`), or
/// `time_bucket(interval, ts, zone)`.
fn bin_of(f: &ScalarFunction, gapfill: bool) -> Option<(Bucket, bool)> {
    let (width, ts, third) = match f.args.as_slice() {
        [w, ts] => (w, ts, None),
        [w, ts, o] => (w, ts, Some(o)),
        _ => return None,
    };
    if !is_ts(ts) {
        return None;
    }
    let (months, days, nanos) = match width {
        Expr::Literal(v, _) if !matches!(v, ScalarValue::Utf8(_) | ScalarValue::Utf8View(_)) => {
            crate::calendar::interval_parts(v)?
        }
        // `time_bucket('60.000s', ts)` and `date_bin('1 minute', ts)`: Grafana's macros
        // write the width as text.
        e => {
            let text = text_literal(e)?;
            match width_of_text(text) {
                Some(ns) => (0, 0, ns),
                None => crate::calendar::interval_parts(&ScalarValue::Utf8(Some(text.to_owned())))?,
            }
        }
    };
    // `time_bucket(interval, ts, 'Europe/Berlin')`: its zone is plain text (an origin is a
    // timestamp, or text that is not a zone).
    if f.func.name() == "time_bucket"
        && let Some(Expr::Literal(v, _)) = third
        && let Some(zone) = crate::calendar::text(v)
        && isobar_query::parse_time_zone(zone).is_ok()
    {
        return crate::calendar::interval_bucket((months, days, nanos), zone).map(|b| (b, gapfill));
    }
    let origin_ns = match third {
        None => 0,
        Some(Expr::Literal(ScalarValue::TimestampNanosecond(Some(t), _), _)) => *t,
        // `TIMESTAMPTZ '1970-01-01'` as PostgreSQL clients write the origin.
        Some(e) => arrow_cast::parse::string_to_timestamp_nanos(text_literal(e)?).ok()?,
    };
    if months != 0 {
        // Calendar months in UTC, counted from January 1970 as date_bin counts them from its
        // default origin.
        let months = u32::try_from(months).ok().filter(|_| days == 0 && nanos == 0 && origin_ns == 0)?;
        return Some((Bucket::months(months, None), gapfill));
    }
    let width_ns = i64::from(days).checked_mul(86_400_000_000_000)?.checked_add(nanos)?;
    if width_ns <= 0 {
        return None;
    }
    Some((Bucket::fixed(width_ns, origin_ns), gapfill))
}

/// `date_trunc(unit, ts [, zone])` over `range`, where the engine has its buckets.
fn trunc_of(f: &ScalarFunction, range: TimeRange) -> Option<Bucket> {
    let (unit, ts, zone) = match f.args.as_slice() {
        [unit, ts] => (unit, ts, None),
        [unit, ts, Expr::Literal(zone, _)] => (unit, ts, Some(crate::calendar::text(zone)?)),
        _ => return None,
    };
    let Expr::Literal(unit, _) = unit else { return None };
    let unit = crate::calendar::Unit::parse(crate::calendar::text(unit)?).ok()?;
    if !is_ts(ts) {
        return None;
    }
    crate::calendar::trunc_bucket(unit, zone, range)
}

/// The text of a string literal, also under a cast (`'1 minute'::interval`).
fn text_literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s),
        Expr::Cast(c) => text_literal(&c.expr),
        Expr::TryCast(c) => text_literal(&c.expr),
        _ => None,
    }
}

/// A fixed width written as text, in nanoseconds: SQL's `'1 minute'`, `'90 seconds'`, or the
/// compact `'60.000s'`, `'5m'`, `'1h'`, `'1d'`, `'250ms'`; `None` for months and years.
fn width_of_text(text: &str) -> Option<i64> {
    if let Ok(v) = arrow_cast::parse::parse_interval_month_day_nano(text)
        && v.months == 0
    {
        return i64::from(v.days).checked_mul(86_400_000_000_000)?.checked_add(v.nanoseconds);
    }
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit_ns = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3_600e9,
        "d" => 86_400e9,
        _ => return None,
    };
    let ns = (number * unit_ns).round();
    (1.0..9.2e18).contains(&ns).then_some(ns as i64)
}

/// An aggregate expression as an engine function over a relation column (its name).
fn aggregation_of(e: Expr, only_column: bool) -> Option<(AggregateFunction, String)> {
    let Expr::AggregateFunction(AggExpr { func, params }) = e else { return None };
    if params.distinct || params.filter.is_some() {
        return None;
    }
    let column = match params.args.as_slice() {
        [Expr::Column(c)] => c.name.clone(),
        [Expr::Cast(c)] => match c.expr.as_ref() {
            Expr::Column(col) if func.name() == "avg" => col.name.clone(),
            _ => return None,
        },
        _ => return None,
    };
    if column == "series" || column == "ts" {
        return None;
    }
    let by_ts = |asc: bool| match params.order_by.as_slice() {
        [s] => matches!(&s.expr, Expr::Column(c) if c.name == "ts").then_some(s.asc == asc),
        _ => None,
    };
    let ignores_nulls = only_column || params.null_treatment == Some(NullTreatment::IgnoreNulls);
    let function = match func.name() {
        "avg" if params.order_by.is_empty() => AggregateFunction::Avg,
        "min" if params.order_by.is_empty() => AggregateFunction::Min,
        "max" if params.order_by.is_empty() => AggregateFunction::Max,
        "sum" if params.order_by.is_empty() => AggregateFunction::Sum,
        "count" if params.order_by.is_empty() => AggregateFunction::Count,
        "first_value" if ignores_nulls => {
            if by_ts(true)? {
                AggregateFunction::First
            } else {
                AggregateFunction::Last
            }
        }
        "last_value" if ignores_nulls => {
            if by_ts(true)? {
                AggregateFunction::Last
            } else {
                AggregateFunction::First
            }
        }
        _ => return None,
    };
    Some((function, column))
}

/// A projection over a gap-filling engine aggregate with `locf(..)` / `interpolate(..)`: the
/// fill moved into the engine read and the wrappers removed (output names kept).
fn fill_projection(p: &Projection) -> Result<Option<Projection>> {
    let LogicalPlan::Extension(ext) = p.input.as_ref() else { return Ok(None) };
    let Some(node) = ext.node.as_any().downcast_ref::<EngineNode>() else { return Ok(None) };
    let Some(read) = node.read.as_any().downcast_ref::<AggregateRead>() else { return Ok(None) };
    let mut fill = None;
    for e in &p.expr {
        e.apply(|e| {
            if let Some(f) = fill_of(e) {
                if fill.is_some_and(|g| g != f) {
                    return Err(DataFusionError::Plan("locf() and interpolate() cannot be mixed in one query: the engine fills every aggregate the same way".into()));
                }
                fill = Some(f);
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })?;
    }
    let Some(fill) = fill else { return Ok(None) };
    if !read.gapfill {
        return Err(DataFusionError::Plan(
            "locf() and interpolate() fill the empty buckets of a GROUP BY date_bin_gapfill(...): group by date_bin_gapfill instead of date_bin".into(),
        ));
    }
    let mut exprs = Vec::with_capacity(p.expr.len());
    for (i, e) in p.expr.iter().enumerate() {
        let stripped = e.clone().transform_up(|e| match fill_of(&e) {
            Some(_) => match e {
                Expr::ScalarFunction(mut f) if f.args.len() == 1 => Ok(Transformed::yes(f.args.remove(0))),
                other => Ok(Transformed::no(other)),
            },
            None => Ok(Transformed::no(e)),
        })?;
        exprs.push(if stripped.transformed {
            let (qualifier, field) = p.schema.qualified_field(i);
            stripped.data.unalias().alias_qualified(qualifier.cloned(), field.name())
        } else {
            stripped.data
        });
    }
    let filled = Arc::new(read.with_fill(fill));
    let input =
        LogicalPlan::Extension(Extension { node: Arc::new(EngineNode { read: filled, schema: node.schema.clone() }) });
    Ok(Some(Projection::try_new(exprs, Arc::new(input))?))
}

/// The fill a `locf(..)` or `interpolate(..)` call asks for.
fn fill_of(e: &Expr) -> Option<Fill> {
    match e {
        Expr::ScalarFunction(f) if f.func.name() == "locf" => Some(Fill::Previous),
        Expr::ScalarFunction(f) if f.func.name() == "interpolate" => Some(Fill::Linear),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::width_of_text;

    #[test]
    fn widths_written_as_text() {
        assert_eq!(width_of_text("60.000s"), Some(60_000_000_000));
        assert_eq!(width_of_text("1 minute"), Some(60_000_000_000));
        assert_eq!(width_of_text("5m"), Some(300_000_000_000));
        assert_eq!(width_of_text("250ms"), Some(250_000_000));
        assert_eq!(width_of_text("1d"), Some(86_400_000_000_000));
        assert_eq!(width_of_text("1 month"), None);
        assert_eq!(width_of_text("soon"), None);
    }
}
