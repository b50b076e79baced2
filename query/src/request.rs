//! Read requests from the wire, converted once into the engine's own requests: a
//! `ScanRequest` into [`isobar_storage::ScanRequest`] (with its per-series and total row
//! limits), an `AggregateRequest` into an [`AggregateQuery`], a `LatestRequest` into a
//! [`LatestQuery`]. Nothing after this module looks at protobuf again.
//!
//! Checked here (no catalog needed): selector set, time range not inverted, column references
//! well-formed, enums known, aggregations present with a function and a concrete column, output
//! names unique, bucket width not negative, filling only over a bounded range. Checked later
//! against the catalog ([`crate::resolve`]): that families and columns exist and that each
//! function accepts its column's type.

use isobar_proto::v1 as pb;
use isobar_storage::{Order, ScanRequest};
use isobar_wire::selector::{SelectorError, selector_from_proto, time_range_from_proto};

use crate::column_ref::{ColumnRef, ColumnRefError};
use crate::queries::{AggregateFunction, AggregateQuery, Aggregation, Bucket, Fill, GroupBy, LatestMode, LatestQuery};

/// Rows per batch when a scan request leaves it to the server.
pub const DEFAULT_BATCH_ROWS: usize = 8192;
/// Most rows per batch a scan request may ask for.
pub const MAX_BATCH_ROWS: usize = 1 << 20;

/// A read request that cannot be executed as sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The selector or time range is wrong.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// A column reference is malformed.
    #[error("columns[{index}]: {source}")]
    Column {
        /// Index in the request's column list (or aggregation list).
        index: usize,
        /// What is wrong.
        #[source]
        source: ColumnRefError,
    },
    /// An enum field with a number this server does not know.
    #[error("{field} = {value} is not a known value")]
    UnknownEnum {
        /// The field.
        field: &'static str,
        /// The number sent.
        value: i32,
    },
    /// An aggregate request without aggregations.
    #[error("the request has no aggregations; add at least one, e.g. avg of env.temp")]
    NoAggregations,
    /// An aggregation without a function.
    #[error("aggregations[{index}] has no function")]
    FunctionUnset {
        /// Index in the aggregation list.
        index: usize,
    },
    /// An aggregation over `family.*`.
    #[error("aggregations[{index}]: {column} names a whole family; aggregate one column")]
    WildcardAggregation {
        /// Index in the aggregation list.
        index: usize,
        /// The reference.
        column: String,
    },
    /// Two aggregations with the same output name.
    #[error("two aggregations are named \"{name}\"; give one an alias")]
    DuplicateOutput {
        /// The repeated name.
        name: String,
    },
    /// A negative bucket width.
    #[error("bucket_ns = {bucket_ns} is negative")]
    NegativeBucket {
        /// The width sent.
        bucket_ns: i64,
    },
    /// Filling of empty buckets over a range without both ends.
    #[error("fill needs a time range with both from_ns and to_ns set (which buckets are empty otherwise?)")]
    FillNeedsBoundedRange,
}

/// The references of `refs`, parsed.
fn columns(refs: &[String]) -> Result<Vec<ColumnRef>, RequestError> {
    refs.iter()
        .enumerate()
        .map(|(index, text)| ColumnRef::parse(text).map_err(|source| RequestError::Column { index, source }))
        .collect()
}

/// A wire row limit (0 = none) as the engine's.
fn limit(n: u64) -> Option<usize> {
    (n > 0).then(|| usize::try_from(n).unwrap_or(usize::MAX))
}

/// The engine scan of a wire `ScanRequest`: rows per batch clamped to `1..=`[`MAX_BATCH_ROWS`]
/// (default [`DEFAULT_BATCH_ROWS`]), the total and per-series limits for the engine to apply.
pub fn scan_request(request: pb::ScanRequest) -> Result<ScanRequest, RequestError> {
    let order = match pb::Order::try_from(request.order) {
        Ok(pb::Order::Unspecified | pb::Order::Asc) => Order::Asc,
        Ok(pb::Order::Desc) => Order::Desc,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "order", value: request.order });
        }
    };
    let selector = selector_from_proto(request.selector)?;
    let range = time_range_from_proto(request.range)?;
    // The engine's scan takes references as text (its `Projection` resolves them); they are
    // parsed here so that a malformed one is refused naming its index, before any catalog look-up.
    let columns = columns(&request.columns)?.iter().map(ToString::to_string).collect();
    let batch_rows = if request.batch_rows > 0 {
        (request.batch_rows as usize).clamp(1, MAX_BATCH_ROWS)
    } else {
        DEFAULT_BATCH_ROWS
    };
    Ok(ScanRequest {
        table: request.table,
        selector,
        range,
        columns,
        limit: limit(request.limit),
        limit_per_series: limit(request.limit_per_series),
        order,
        batch_rows,
    })
}

/// The aggregate query of a wire `AggregateRequest`; every aggregation gets its output name
/// (the alias, else `function(family.column)`) as its alias.
pub fn aggregate_query(request: pb::AggregateRequest) -> Result<AggregateQuery, RequestError> {
    let range_set = request.range.as_ref().is_some_and(|r| r.from_ns.is_some() && r.to_ns.is_some());
    let range = time_range_from_proto(request.range)?;
    if request.bucket_ns < 0 {
        return Err(RequestError::NegativeBucket { bucket_ns: request.bucket_ns });
    }
    if request.aggregations.is_empty() {
        return Err(RequestError::NoAggregations);
    }
    let bucket = bucket(&request);
    let mut aggregations: Vec<Aggregation> = Vec::with_capacity(request.aggregations.len());
    for (index, a) in request.aggregations.into_iter().enumerate() {
        use pb::AggregateFunction as F;
        let function = match F::try_from(a.function) {
            Ok(F::Unspecified) => return Err(RequestError::FunctionUnset { index }),
            Ok(F::Count) => AggregateFunction::Count,
            Ok(F::Sum) => AggregateFunction::Sum,
            Ok(F::Min) => AggregateFunction::Min,
            Ok(F::Max) => AggregateFunction::Max,
            Ok(F::Avg) => AggregateFunction::Avg,
            Ok(F::First) => AggregateFunction::First,
            Ok(F::Last) => AggregateFunction::Last,
            Ok(F::Stddev) => AggregateFunction::Stddev,
            Err(_) => {
                return Err(RequestError::UnknownEnum { field: "aggregations.function", value: a.function });
            }
        };
        let column = ColumnRef::parse(&a.column).map_err(|source| RequestError::Column { index, source })?;
        if column.is_wildcard() {
            return Err(RequestError::WildcardAggregation { index, column: column.to_string() });
        }
        let name = if a.alias.is_empty() { format!("{}({column})", function.name()) } else { a.alias };
        if aggregations.iter().any(|p| p.alias.as_deref() == Some(name.as_str())) {
            return Err(RequestError::DuplicateOutput { name });
        }
        aggregations.push(Aggregation { function, column, alias: Some(name) });
    }
    let group_by = match pb::GroupBy::try_from(request.group_by) {
        Ok(pb::GroupBy::Unspecified | pb::GroupBy::Series) => GroupBy::Series,
        Ok(pb::GroupBy::None) => GroupBy::None,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "group_by", value: request.group_by });
        }
    };
    let fill = match pb::Fill::try_from(request.fill) {
        Ok(pb::Fill::Unspecified | pb::Fill::None) => Fill::None,
        Ok(pb::Fill::Null) => Fill::Null,
        Ok(pb::Fill::Previous) => Fill::Previous,
        Ok(pb::Fill::Linear) => Fill::Linear,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "fill", value: request.fill });
        }
    };
    if fill != Fill::None && !range_set {
        return Err(RequestError::FillNeedsBoundedRange);
    }
    Ok(AggregateQuery {
        selector: selector_from_proto(request.selector)?,
        range,
        bucket,
        aggregations,
        group_by,
        fill,
        push_down: true,
        table: request.table,
    })
}

/// The buckets a request asks for (checked by the query's plan): months, else a width; the
/// time zone applies to either.
fn bucket(request: &pb::AggregateRequest) -> Option<Bucket> {
    let time_zone = (!request.time_zone.is_empty()).then(|| request.time_zone.clone());
    if request.bucket_months > 0 {
        return Some(Bucket {
            width_ns: request.bucket_ns,
            origin_ns: request.bucket_origin_ns,
            ..Bucket::months(request.bucket_months, time_zone)
        });
    }
    (request.bucket_ns > 0).then(|| Bucket { time_zone, ..Bucket::fixed(request.bucket_ns, request.bucket_origin_ns) })
}

/// The latest-point query of a wire `LatestRequest`.
pub fn latest_query(request: pb::LatestRequest) -> Result<LatestQuery, RequestError> {
    let mode = match pb::LatestMode::try_from(request.mode) {
        Ok(pb::LatestMode::Unspecified | pb::LatestMode::Row) => LatestMode::Row,
        Ok(pb::LatestMode::PerColumn) => LatestMode::PerColumn,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "mode", value: request.mode });
        }
    };
    Ok(LatestQuery {
        selector: selector_from_proto(request.selector)?,
        columns: columns(&request.columns)?,
        mode,
        range: time_range_from_proto(request.range)?,
        table: request.table,
    })
}

#[cfg(test)]
mod tests;
