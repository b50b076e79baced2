//! `isobar scan`, `isobar agg` and `isobar latest`: arguments and the wire requests they make.

use clap::{Args, ValueEnum};
use isobar_proto::v1 as pb;

use super::CliError;
use super::args::{ColumnsArgs, OutputFormat, RangeArgs, SelectorArgs};
use super::time::{Zone, parse_time};
use crate::client::Client;
use crate::config::DurationValue;

/// Arguments of `isobar scan`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar scan trucks --series truck_0042 --from now-1h
  isobar scan trucks --prefix truck_00 --from 2024-05-01 --to 2024-05-02 -c gps.lat,gps.lon
  isobar scan weather --all -c env.* --desc --limit-per-series 1 --format csv")]
pub struct ScanArgs {
    /// Table name.
    pub table: String,
    /// Which series.
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Which times.
    #[command(flatten)]
    pub range: RangeArgs,
    /// Which columns.
    #[command(flatten)]
    pub columns: ColumnsArgs,
    /// Most rows in total (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub limit: u64,
    /// Most rows per series (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub limit_per_series: u64,
    /// Newest first within each series.
    #[arg(long)]
    pub desc: bool,
}

impl ScanArgs {
    /// The wire request.
    pub fn request(&self) -> Result<pb::ScanRequest, CliError> {
        Ok(pb::ScanRequest {
            table: self.table.clone(),
            selector: Some(self.selector.to_proto()),
            range: Some(self.range.to_proto()?),
            columns: self.columns.columns.clone(),
            limit: self.limit,
            limit_per_series: self.limit_per_series,
            order: if self.desc { pb::Order::Desc } else { pb::Order::Asc }.into(),
            batch_rows: 0,
        })
    }
}

/// Grouping of `isobar agg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupByArg {
    /// One row per series and bucket.
    Series,
    /// One row per bucket across all selected series.
    None,
}

/// Filling of empty buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FillArg {
    /// No row for an empty bucket.
    None,
    /// A row of nulls.
    Null,
    /// The previous bucket's values.
    Previous,
    /// Linear interpolation between neighbours.
    Linear,
}

/// One `--fn FUNC:FAMILY.COLUMN` (optionally `:ALIAS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregationArg {
    /// The function.
    pub function: pb::AggregateFunction,
    /// `family.column`.
    pub column: String,
    /// Output name, if given.
    pub alias: String,
}

/// Parses `avg:env.temp` or `avg:env.temp:t_avg`.
pub fn parse_aggregation(s: &str) -> Result<AggregationArg, String> {
    let mut parts = s.splitn(3, ':');
    let (func, column) = match (parts.next(), parts.next()) {
        (Some(f), Some(c)) if c.contains('.') => (f, c),
        _ => {
            return Err(format!("\"{s}\" is not FUNC:FAMILY.COLUMN[:ALIAS], e.g. avg:env.temp_c"));
        }
    };
    use pb::AggregateFunction as F;
    let function = match func.to_ascii_lowercase().as_str() {
        "count" => F::Count,
        "sum" => F::Sum,
        "min" => F::Min,
        "max" => F::Max,
        "avg" | "mean" => F::Avg,
        "first" => F::First,
        "last" => F::Last,
        "stddev" => F::Stddev,
        _ => {
            return Err(format!("unknown function \"{func}\"; use count, sum, min, max, avg, first, last or stddev"));
        }
    };
    Ok(AggregationArg { function, column: column.to_owned(), alias: parts.next().unwrap_or("").to_owned() })
}

const DAY_NS: i64 = 86_400_000_000_000;

/// `--bucket`: a fixed width, or calendar months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketArg {
    /// Nanoseconds.
    Width(i64),
    /// Months (12 per year).
    Months(u32),
}

/// Parses `5m`, `1h`, `1d` (a width), `1mo`, `3mo` (months) or `1y` (twelve months).
pub fn parse_bucket(s: &str) -> Result<BucketArg, String> {
    let t = s.trim();
    let count = |n: &str| n.trim().parse::<u32>().ok().filter(|n| *n > 0);
    let calendar = if let Some(n) = t.strip_suffix("mo") {
        count(n)
    } else if let Some(n) = t.strip_suffix('y') {
        count(n).and_then(|n| n.checked_mul(12))
    } else {
        let DurationValue(d) = t.parse().map_err(|_| {
            format!("\"{s}\" is not a bucket: use a duration (5m, 1h, 1d) or months and years (1mo, 3mo, 1y)")
        })?;
        let ns = i64::try_from(d.as_nanos()).map_err(|_| format!("\"{s}\" is wider than 292 years"))?;
        return Ok(BucketArg::Width(ns));
    };
    calendar
        .map(BucketArg::Months)
        .ok_or_else(|| format!("\"{s}\" is not a bucket: months and years are a positive count, e.g. 1mo, 3mo, 1y"))
}

/// Arguments of `isobar agg`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar agg weather --all --from now-7d --bucket 1h --fn avg:env.temp_c --fn max:env.temp_c
  isobar agg weather --all --from 2024-01-01 --to 2025-01-01 --tz Europe/Berlin --bucket 1mo --fn avg:env.temp_c
  isobar agg trucks --prefix truck_ --from 2024-05-01 --to 2024-06-01 --bucket 1d \\
      --fn sum:diag.fuel:fuel_used --group-by none --fill null")]
pub struct AggArgs {
    /// Table name.
    pub table: String,
    /// Which series.
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Which times.
    #[command(flatten)]
    pub range: RangeArgs,
    /// Bucket width, e.g. 5m, 1h, 1d, or calendar months and years (1mo, 3mo, 1y); omit for
    /// one bucket over the whole range. With --tz, day, month and year buckets start at local
    /// midnight of that zone (a day of a DST change lasts 23 or 25 hours); shorter buckets stay
    /// aligned to the epoch (whole UTC hours, which are whole local hours in zones with whole-hour offsets).
    #[arg(long, value_name = "DURATION", value_parser = parse_bucket)]
    pub bucket: Option<BucketArg>,
    /// Buckets start at ORIGIN + k * width (default the epoch: UTC-aligned).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub origin: Option<i64>,
    /// An aggregate as FUNC:FAMILY.COLUMN or FUNC:FAMILY.COLUMN:ALIAS; FUNC is count, sum, min, max, avg, first,
    /// last or stddev. Repeat for more.
    #[arg(long = "fn", required = true, value_name = "FUNC:FAMILY.COLUMN", value_parser = parse_aggregation)]
    pub functions: Vec<AggregationArg>,
    /// Per series, or across all selected series.
    #[arg(long, value_enum, default_value_t = GroupByArg::Series)]
    pub group_by: GroupByArg,
    /// What empty buckets produce.
    #[arg(long, value_enum, default_value_t = FillArg::None)]
    pub fill: FillArg,
}

impl AggArgs {
    /// The wire request; the zone goes with day, month and year buckets only.
    pub fn request(&self) -> Result<pb::AggregateRequest, CliError> {
        let zone = self.range.tz.as_ref().map(|z| z.name.clone()).unwrap_or_default();
        let (bucket_ns, bucket_months, time_zone) = match self.bucket {
            None => (0, 0, String::new()),
            Some(BucketArg::Months(m)) => (0, m, zone),
            Some(BucketArg::Width(w)) if w % DAY_NS == 0 => (w, 0, zone),
            Some(BucketArg::Width(w)) => (w, 0, String::new()),
        };
        Ok(pb::AggregateRequest {
            table: self.table.clone(),
            selector: Some(self.selector.to_proto()),
            range: Some(self.range.to_proto()?),
            bucket_ns,
            bucket_origin_ns: self.origin.unwrap_or(0),
            bucket_months,
            time_zone,
            aggregations: self
                .functions
                .iter()
                .map(|a| pb::Aggregation {
                    function: a.function.into(),
                    column: a.column.clone(),
                    alias: a.alias.clone(),
                })
                .collect(),
            group_by: match self.group_by {
                GroupByArg::Series => pb::GroupBy::Series,
                GroupByArg::None => pb::GroupBy::None,
            }
            .into(),
            fill: match self.fill {
                FillArg::None => pb::Fill::None,
                FillArg::Null => pb::Fill::Null,
                FillArg::Previous => pb::Fill::Previous,
                FillArg::Linear => pb::Fill::Linear,
            }
            .into(),
        })
    }
}

/// Arguments of `isobar latest`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar latest trucks --prefix truck_ -c gps.lat,gps.lon
  isobar latest weather --all --per-column --to 2024-05-01   # as of midnight")]
pub struct LatestArgs {
    /// Table name.
    pub table: String,
    /// Which series.
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Which columns.
    #[command(flatten)]
    pub columns: ColumnsArgs,
    /// Latest non-null value of each column separately, instead of the latest row; each value
    /// column is followed by `<family.column>.ts`, the time of that value.
    #[arg(long)]
    pub per_column: bool,
    /// Which times.
    #[command(flatten)]
    pub range: RangeArgs,
}

impl LatestArgs {
    /// The wire request.
    pub fn request(&self) -> Result<pb::LatestRequest, CliError> {
        Ok(pb::LatestRequest {
            table: self.table.clone(),
            selector: Some(self.selector.to_proto()),
            columns: self.columns.columns.clone(),
            mode: if self.per_column { pb::LatestMode::PerColumn } else { pb::LatestMode::Row }.into(),
            range: Some(self.range.to_proto()?),
        })
    }
}

/// Prints a read answer as it streams in, times in `zone` (UTC when `None`).
pub async fn print_stream(
    mut stream: tonic::Streaming<pb::ArrowBatch>,
    format: super::args::OutputFormat,
    zone: Option<&Zone>,
) -> Result<u64, CliError> {
    let mut reader = crate::client::ArrowReader::new();
    let mut printer = super::output::Printer::new(std::io::stdout().lock(), format).in_zone(zone.map(|z| z.tz.clone()));
    while let Some(message) = stream.message().await? {
        for batch in reader.push(message)? {
            printer.batch(&batch)?;
        }
    }
    let schema = reader.finish()?;
    Ok(printer.finish(&schema)?)
}

/// Runs `isobar scan`.
pub async fn run_scan(args: &ScanArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let stream = client.query.scan(args.request()?).await?.into_inner();
    print_stream(stream, format, args.range.tz.as_ref()).await.map(drop)
}

/// Runs `isobar agg`.
pub async fn run_agg(args: &AggArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let stream = client.query.aggregate(args.request()?).await?.into_inner();
    print_stream(stream, format, args.range.tz.as_ref()).await.map(drop)
}

/// Runs `isobar latest`.
pub async fn run_latest(args: &LatestArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let stream = client.query.latest(args.request()?).await?.into_inner();
    print_stream(stream, format, args.range.tz.as_ref()).await.map(drop)
}
