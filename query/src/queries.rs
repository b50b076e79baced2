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
//! assert_eq!(q.bucket, Some(Bucket::new(3_600_000_000_000)));
//! assert!(q.push_down);
//! ```

use isobar_storage::{SeriesSelector, TimeRange};
use serde::{Deserialize, Serialize};

use crate::column_ref::ColumnRef;
use crate::export::{Naming, Partitioning};

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

/// Time buckets: fixed `[origin + k * width, origin + (k + 1) * width)`, or calendar buckets
/// (whole local days, months, years) in a time zone.
///
/// Calendar buckets follow the civil calendar of `time_zone` (UTC when unset), as PostgreSQL's
/// `date_trunc('month', ts AT TIME ZONE z)` and TimescaleDB's `time_bucket(..., timezone => z)`
/// do: a local day starts at local midnight, so a day of a DST change is 23 or 25 hours long; a
/// month bucket starts on the 1st at local midnight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Width in nanoseconds; positive unless `months` is set (then 0). With `time_zone` set, a
    /// whole number of days (`86_400 s` each) counted in local days.
    pub width_ns: i64,
    /// Alignment in nanoseconds since the epoch (default 0: buckets aligned to the epoch, so
    /// hourly and daily buckets start at whole UTC hours and days). Only for fixed buckets
    /// without a time zone.
    #[serde(default)]
    pub origin_ns: i64,
    /// Calendar months per bucket (12: years); 0 for fixed or day buckets.
    #[serde(default)]
    pub months: u32,
    /// IANA time zone (`Europe/Berlin`) of day and month buckets; `None` is UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl Bucket {
    /// Buckets of `width_ns` aligned to the epoch.
    pub fn new(width_ns: i64) -> Self {
        Self::fixed(width_ns, 0)
    }

    /// Buckets of `width_ns` aligned to `origin_ns`.
    pub fn fixed(width_ns: i64, origin_ns: i64) -> Self {
        Self { width_ns, origin_ns, months: 0, time_zone: None }
    }

    /// Buckets of `months` calendar months in `time_zone` (UTC when `None`).
    pub fn months(months: u32, time_zone: Option<String>) -> Self {
        Self { width_ns: 0, origin_ns: 0, months, time_zone }
    }

    /// Buckets of `width_ns` (whole days) as local days of `time_zone`.
    pub fn local_days(width_ns: i64, time_zone: String) -> Self {
        Self { width_ns, origin_ns: 0, months: 0, time_zone: Some(time_zone) }
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
    /// Directories by UTC period (default by day, `date=YYYY-MM-DD`; `auto` chooses from the
    /// data: [`crate::export::auto_partition`]).
    #[serde(default)]
    pub partition: Partitioning,
    /// What the files call their columns (default `family.column`).
    #[serde(default)]
    pub naming: Naming,
    /// A part file ends, and the next starts, once it reaches about this many bytes (default
    /// [`crate::export::DEFAULT_TARGET_FILE_BYTES`], 128 MiB); [`ExportQuery::file_rows`] still
    /// caps its rows.
    #[serde(default = "default_target_file_bytes")]
    pub target_file_bytes: u64,
    /// Replace a previous export in the destination (only files an export writes; anything else
    /// there refuses the export): [`crate::export::prepare_destination`].
    #[serde(default)]
    pub overwrite: bool,
}

fn default_target_file_bytes() -> u64 {
    crate::export::DEFAULT_TARGET_FILE_BYTES
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
            partition: Partitioning::default(),
            naming: Naming::default(),
            target_file_bytes: default_target_file_bytes(),
            overwrite: false,
        }
    }
}
