//! Read requests from the wire, checked and turned into plain plans the engine-side code can
//! execute without looking at protobuf again.
//!
//! Checked here (no catalog needed): selector set, time range not inverted, column references
//! well-formed, enums known, aggregations present with a function and a concrete column, output
//! names unique, bucket width not negative, filling only over a bounded range. Checked later
//! against the catalog ([`crate::projection`]): that families and columns exist and that each
//! function accepts its column's type.

use isobar_ingest::selector::{SelectorError, selector_from_proto, time_range_from_proto};
use isobar_proto::v1 as pb;
use isobar_storage::{SeriesSelector, TimeRange};

use crate::column_ref::{ColumnRef, ColumnRefError};

/// Time order within a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

/// A checked `ScanRequest`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanPlan {
    /// Table name.
    pub table: String,
    /// Which series.
    pub selector: SeriesSelector,
    /// Which times.
    pub range: TimeRange,
    /// Requested columns; empty means all.
    pub columns: Vec<ColumnRef>,
    /// Most rows in total.
    pub limit: Option<u64>,
    /// Most rows per series.
    pub limit_per_series: Option<u64>,
    /// Time order within a series.
    pub order: Order,
    /// Rows per output batch; `None` lets the server choose.
    pub batch_rows: Option<u32>,
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFunction {
    /// Number of non-null values.
    Count,
    /// Sum.
    Sum,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Arithmetic mean.
    Avg,
    /// Value with the smallest ts.
    First,
    /// Value with the largest ts.
    Last,
    /// Sample standard deviation.
    Stddev,
}

impl AggregateFunction {
    /// The lower-case name used in default output names, e.g. `avg`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Min => "min",
            Self::Max => "max",
            Self::Avg => "avg",
            Self::First => "first",
            Self::Last => "last",
            Self::Stddev => "stddev",
        }
    }
}

/// One aggregate of an [`AggregatePlan`].
#[derive(Clone, Debug, PartialEq)]
pub struct AggregationPlan {
    /// The function.
    pub function: AggregateFunction,
    /// The input column (never a wildcard).
    pub column: ColumnRef,
    /// Output column name: the alias, else `function(family.column)`.
    pub name: String,
}

/// Grouping besides the time bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Per series (the default).
    #[default]
    Series,
    /// Across all selected series.
    None,
}

/// What an empty bucket produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Nothing: empty buckets are left out (the default).
    #[default]
    None,
    /// Nulls.
    Null,
    /// The previous value.
    Previous,
    /// Linear interpolation.
    Linear,
}

/// A checked `AggregateRequest`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregatePlan {
    /// Table name.
    pub table: String,
    /// Which series.
    pub selector: SeriesSelector,
    /// Which times.
    pub range: TimeRange,
    /// Bucket width in ns; `None` makes the whole range one bucket.
    pub bucket_ns: Option<i64>,
    /// Bucket alignment: buckets start at `origin + k * width`.
    pub bucket_origin_ns: i64,
    /// The aggregates, in output order.
    pub aggregations: Vec<AggregationPlan>,
    /// Grouping.
    pub group_by: GroupBy,
    /// Empty-bucket filling.
    pub fill: Fill,
}

/// What "latest" means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatestMode {
    /// The row with the greatest ts (the default).
    #[default]
    Row,
    /// The most recent non-null value of each column.
    PerColumn,
}

/// A checked `LatestRequest`.
#[derive(Clone, Debug, PartialEq)]
pub struct LatestPlan {
    /// Table name.
    pub table: String,
    /// Which series.
    pub selector: SeriesSelector,
    /// Requested columns; empty means all.
    pub columns: Vec<ColumnRef>,
    /// Row or per-column.
    pub mode: LatestMode,
    /// Only points in this range count.
    pub range: TimeRange,
}

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

fn columns(refs: &[String]) -> Result<Vec<ColumnRef>, RequestError> {
    refs.iter()
        .enumerate()
        .map(|(index, text)| ColumnRef::parse(text).map_err(|source| RequestError::Column { index, source }))
        .collect()
}

/// Checks a `ScanRequest`.
pub fn scan_plan(request: pb::ScanRequest) -> Result<ScanPlan, RequestError> {
    let order = match pb::Order::try_from(request.order) {
        Ok(pb::Order::Unspecified | pb::Order::Asc) => Order::Asc,
        Ok(pb::Order::Desc) => Order::Desc,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "order", value: request.order });
        }
    };
    Ok(ScanPlan {
        selector: selector_from_proto(request.selector)?,
        range: time_range_from_proto(request.range)?,
        columns: columns(&request.columns)?,
        limit: (request.limit > 0).then_some(request.limit),
        limit_per_series: (request.limit_per_series > 0).then_some(request.limit_per_series),
        order,
        batch_rows: (request.batch_rows > 0).then_some(request.batch_rows),
        table: request.table,
    })
}

/// Checks an `AggregateRequest`.
pub fn aggregate_plan(request: pb::AggregateRequest) -> Result<AggregatePlan, RequestError> {
    let range_set = request.range.as_ref().is_some_and(|r| r.from_ns.is_some() && r.to_ns.is_some());
    let range = time_range_from_proto(request.range)?;
    if request.bucket_ns < 0 {
        return Err(RequestError::NegativeBucket { bucket_ns: request.bucket_ns });
    }
    if request.aggregations.is_empty() {
        return Err(RequestError::NoAggregations);
    }
    let mut aggregations: Vec<AggregationPlan> = Vec::with_capacity(request.aggregations.len());
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
        if aggregations.iter().any(|p| p.name == name) {
            return Err(RequestError::DuplicateOutput { name });
        }
        aggregations.push(AggregationPlan { function, column, name });
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
    Ok(AggregatePlan {
        selector: selector_from_proto(request.selector)?,
        range,
        bucket_ns: (request.bucket_ns > 0).then_some(request.bucket_ns),
        bucket_origin_ns: request.bucket_origin_ns,
        aggregations,
        group_by,
        fill,
        table: request.table,
    })
}

/// Checks a `LatestRequest`.
pub fn latest_plan(request: pb::LatestRequest) -> Result<LatestPlan, RequestError> {
    let mode = match pb::LatestMode::try_from(request.mode) {
        Ok(pb::LatestMode::Unspecified | pb::LatestMode::Row) => LatestMode::Row,
        Ok(pb::LatestMode::PerColumn) => LatestMode::PerColumn,
        Err(_) => {
            return Err(RequestError::UnknownEnum { field: "mode", value: request.mode });
        }
    };
    Ok(LatestPlan {
        selector: selector_from_proto(request.selector)?,
        columns: columns(&request.columns)?,
        mode,
        range: time_range_from_proto(request.range)?,
        table: request.table,
    })
}

#[cfg(test)]
mod tests;
