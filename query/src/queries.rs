//! The query descriptions shared by the gRPC API, the CLI and in-process callers:
//! [`AggregateQuery`], [`LatestQuery`] and [`ExportQuery`]. They are plain serde types (JSON or
//! TOML friendly); wire requests convert into them once, in [`crate::request`].
//!
//! ```
//! use isobar_query::{AggregateFunction, AggregateQuery, Aggregation, Bucket};
//!
//! let q: AggregateQuery = serde_json::from_str(r#"{
//!     "table": "weather",
//!     "range": {"from": 0, "to": 86400000000000},
//!     "bucket": {"width_ns": 3600000000000},
//!     "aggregations": [{"function": "avg", "column": "weather.temperature"}]
//! }"#).unwrap();
//! let temperature = "weather.temperature".parse().unwrap();
//! assert_eq!(q.aggregations[0], Aggregation::new(AggregateFunction::Avg, temperature));
//! assert_eq!(q.bucket, Some(Bucket { width_ns: 3_600_000_000_000, origin_ns: 0 }));
//! assert!(q.push_down);
//! ```

use isobar_storage::{SeriesSelector, TimeRange};
use serde::{Deserialize, Serialize};

use crate::column_ref::ColumnRef;

fn all_series() -> SeriesSelector {
    SeriesSelector::All
}

fn all_time() -> TimeRange {
    TimeRange::ALL
}

fn yes() -> bool {
    true
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Grouping besides the time bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Per series (the default).
    #[default]
    Series,
    /// Across all selected series.
    None,
}

/// What an empty bucket produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// What "latest" means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatestMode {
    /// The row with the greatest ts (the default).
    #[default]
    Row,
    /// The most recent non-null value of each column.
    PerColumn,
}

/// Time buckets `[origin + k * width, origin + (k + 1) * width)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Width in nanoseconds; must be positive.
    pub width_ns: i64,
    /// Alignment in nanoseconds since the epoch (default 0: buckets aligned to the epoch, so
    /// hourly and daily buckets start at whole UTC hours and days).
    #[serde(default)]
    pub origin_ns: i64,
}

impl Bucket {
    /// Buckets of `width_ns` aligned to the epoch.
    pub fn new(width_ns: i64) -> Self {
        Self { width_ns, origin_ns: 0 }
    }
}

/// One aggregate column of the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    /// The function.
    pub function: AggregateFunction,
    /// Input column, `family.column` (a `family.*` is refused when the query runs).
    pub column: ColumnRef,
    /// Output column name; default `function(family.column)`, e.g. `avg(weather.temperature)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl Aggregation {
    /// `function` over `column`, named by default.
    pub fn new(function: AggregateFunction, column: ColumnRef) -> Self {
        Self { function, column, alias: None }
    }

    /// The output column name.
    pub fn output_name(&self) -> String {
        self.alias.clone().unwrap_or_else(|| format!("{}({})", self.function.name(), self.column))
    }
}

/// A time-bucketed aggregate: see [`crate::aggregate()`] for the answer's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateQuery {
    /// Table name.
    pub table: String,
    /// Which series (default all).
    #[serde(default = "all_series")]
    pub selector: SeriesSelector,
    /// Which times, `[from, to)` (default all).
    #[serde(default = "all_time")]
    pub range: TimeRange,
    /// Time buckets; `None` aggregates the whole range as one bucket.
    #[serde(default)]
    pub bucket: Option<Bucket>,
    /// The aggregates, in output order.
    pub aggregations: Vec<Aggregation>,
    /// Per series (default) or across all selected series.
    #[serde(default)]
    pub group_by: GroupBy,
    /// What empty buckets produce (default: they are left out).
    #[serde(default)]
    pub fill: Fill,
    /// Answer from chunk statistics where that is exact (default true). Turning it off forces
    /// every value to be decoded; the answer is the same (tests compare both).
    #[serde(default = "yes")]
    pub push_down: bool,
}

impl AggregateQuery {
    /// `aggregations` over every series of `table`, all times, one bucket per series.
    pub fn new(table: impl Into<String>, aggregations: Vec<Aggregation>) -> Self {
        Self {
            table: table.into(),
            selector: SeriesSelector::All,
            range: TimeRange::ALL,
            bucket: None,
            aggregations,
            group_by: GroupBy::Series,
            fill: Fill::None,
            push_down: true,
        }
    }
}

/// The newest data of every matched series: see [`crate::latest()`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatestQuery {
    /// Table name.
    pub table: String,
    /// Which series (default all).
    #[serde(default = "all_series")]
    pub selector: SeriesSelector,
    /// `family.column` or `family.*`; empty means every column.
    #[serde(default)]
    pub columns: Vec<ColumnRef>,
    /// The newest row (default) or the newest non-null value of each column.
    #[serde(default)]
    pub mode: LatestMode,
    /// Only data in this range counts (default all).
    #[serde(default = "all_time")]
    pub range: TimeRange,
}

impl LatestQuery {
    /// The newest row of every series of `table`, every column.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            selector: SeriesSelector::All,
            columns: Vec::new(),
            mode: LatestMode::Row,
            range: TimeRange::ALL,
        }
    }
}

/// A Parquet export: see [`crate::export()`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportQuery {
    /// Table name.
    pub table: String,
    /// Which series (default all).
    #[serde(default = "all_series")]
    pub selector: SeriesSelector,
    /// Which times (default all).
    #[serde(default = "all_time")]
    pub range: TimeRange,
    /// `family.column` or `family.*`; empty means every column.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Rows per Parquet row group (default 1,048,576: large enough for scans, small enough for
    /// readers that parallelise per row group).
    #[serde(default = "default_row_group_rows")]
    pub row_group_rows: usize,
    /// The most rows in one file: a partition starts its next `part-N` file when one holds this
    /// many (default 8 row groups).
    #[serde(default = "default_file_rows")]
    pub file_rows: u64,
    /// The most bytes the export may write, counted as they are written (`None`: no limit).
    /// Past it the export stops, removes what it wrote and fails with
    /// [`crate::Error::ExportQuota`]; the server sets it from `server.export_max_bytes`, so that
    /// a caller cannot fill the disk the data directory lives on.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

fn default_row_group_rows() -> usize {
    1 << 20
}

fn default_file_rows() -> u64 {
    8 << 20
}

impl ExportQuery {
    /// Every column of every series of `table`, all times.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            selector: SeriesSelector::All,
            range: TimeRange::ALL,
            columns: Vec::new(),
            row_group_rows: default_row_group_rows(),
            file_rows: default_file_rows(),
            max_bytes: None,
        }
    }
}
