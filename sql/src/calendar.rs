//! Calendar buckets in a time zone for SQL's `date_trunc(unit, ts, zone)` and
//! `time_bucket(interval, ts, zone)`: what a unit or an interval means (checked once, with the
//! errors SQL shows), the bucket start of every row ([`Calendar::apply`]), and the engine
//! [`Bucket`] giving the same answer where there is one ([`trunc_bucket`], [`interval_bucket`]).
//!
//! Local days, months, quarters, years and `time_bucket`'s day and month intervals are the
//! engine's own buckets ([`BucketStarts`], the aggregate's arithmetic), so SQL evaluated row by
//! row and the pushed-down aggregate cannot disagree. The engine has no Monday weeks and no
//! local hours; here a week starts at local midnight of its Monday (the first instant of the day
//! where a DST gap skips midnight, as a local day does), and a sub-day unit at the last whole
//! local unit under the offset in force at the row. Those are pushed down only where they are
//! fixed widths: when every offset of the zone over the queried time range is the same modulo
//! the width (any whole-hour zone for hours; a fixed offset for weeks).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, TimestampNanosecondArray};
use arrow_schema::{DataType, TimeUnit};
use datafusion::arrow::compute::cast;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::ColumnarValue;
use isobar_query::Bucket;
use isobar_query::aggregate::BucketStarts;
use isobar_storage::TimeRange;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Nanoseconds in a day of 24 hours.
const DAY_NS: i64 = 86_400_000_000_000;

/// 1970-01-05, the first Monday after the epoch, in nanoseconds: weeks are aligned to it.
const FIRST_MONDAY_NS: i64 = 4 * DAY_NS;

/// Transitions of a zone looked at before giving up on a push-down (a DST zone has two a year).
const MAX_TRANSITIONS: usize = 4096;

/// What every front end shows as the type of a bucket start: `ts`'s own.
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// A `date_trunc` unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// The units, as SQL names them.
const UNITS: [(&str, Unit); 10] = [
    ("microsecond", Unit::Microsecond),
    ("millisecond", Unit::Millisecond),
    ("second", Unit::Second),
    ("minute", Unit::Minute),
    ("hour", Unit::Hour),
    ("day", Unit::Day),
    ("week", Unit::Week),
    ("month", Unit::Month),
    ("quarter", Unit::Quarter),
    ("year", Unit::Year),
];

impl Unit {
    /// `text` (any case) as a unit; the error names it and lists the accepted ones.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let lower = text.trim().to_ascii_lowercase();
        UNITS.iter().find(|(name, _)| *name == lower).map(|(_, unit)| *unit).ok_or_else(|| {
            let names: Vec<&str> = UNITS.iter().map(|(name, _)| *name).collect();
            DataFusionError::Plan(format!("date_trunc: unknown unit '{text}'; accepted: {}", names.join(", ")))
        })
    }

    /// The width of a unit shorter than a day.
    fn sub_day_ns(self) -> Option<i64> {
        match self {
            Self::Microsecond => Some(1_000),
            Self::Millisecond => Some(1_000_000),
            Self::Second => Some(1_000_000_000),
            Self::Minute => Some(60_000_000_000),
            Self::Hour => Some(3_600_000_000_000),
            _ => None,
        }
    }

    /// Months of a calendar unit.
    fn months(self) -> Option<u32> {
        match self {
            Self::Month => Some(1),
            Self::Quarter => Some(3),
            Self::Year => Some(12),
            _ => None,
        }
    }
}

/// `name` as a zone, read as every front end reads it; the error names it and what is accepted.
pub(crate) fn zone(function: &str, name: &str) -> Result<TimeZone> {
    isobar_query::parse_time_zone(name).map_err(|reason| DataFusionError::Plan(format!("{function}: {reason}")))
}

/// An interval as (months, days, nanoseconds), from an interval or its text (`'1 day'`).
pub(crate) fn interval_parts(value: &ScalarValue) -> Option<(i32, i32, i64)> {
    match value {
        ScalarValue::IntervalMonthDayNano(Some(v)) => Some((v.months, v.days, v.nanoseconds)),
        ScalarValue::IntervalDayTime(Some(v)) => Some((0, v.days, i64::from(v.milliseconds).checked_mul(1_000_000)?)),
        ScalarValue::IntervalYearMonth(Some(months)) => Some((*months, 0, 0)),
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            arrow_cast::parse::parse_interval_month_day_nano(s).ok().map(|v| (v.months, v.days, v.nanoseconds))
        }
        _ => None,
    }
}

/// The text of a non-null string scalar.
pub(crate) fn text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => Some(s),
        _ => None,
    }
}

/// The engine bucket of `time_bucket(interval, ts, zone)`: whole local days or calendar months.
fn zoned_interval(months: i32, days: i32, nanos: i64, zone: &str) -> Option<Bucket> {
    match (months, days, nanos) {
        (m, 0, 0) if m > 0 => Some(Bucket::months(u32::try_from(m).ok()?, Some(zone.to_owned()))),
        (0, d, n) => {
            let width = i64::from(d).checked_mul(DAY_NS)?.checked_add(n)?;
            (width > 0 && width % DAY_NS == 0).then(|| Bucket::local_days(width, zone.to_owned()))
        }
        _ => None,
    }
}

/// How each row's bucket start is found.
#[derive(Clone, Debug)]
pub(crate) enum Calendar {
    /// The engine's buckets: local days, months.
    Engine(BucketStarts),
    /// A unit shorter than a day, from the last whole local unit.
    Local { width: i64, zone: TimeZone },
    /// Weeks from local midnight of Monday.
    Week(TimeZone),
}

impl Calendar {
    /// `date_trunc(unit, ts, zone)`.
    pub(crate) fn truncation(unit: Unit, zone_name: &str) -> Result<Self> {
        let tz = zone("date_trunc", zone_name)?;
        if let Some(width) = unit.sub_day_ns() {
            return Ok(Self::Local { width, zone: tz });
        }
        let bucket = match unit.months() {
            Some(months) => Bucket::months(months, Some(zone_name.to_owned())),
            None if unit == Unit::Week => return Ok(Self::Week(tz)),
            None => Bucket::local_days(DAY_NS, zone_name.to_owned()),
        };
        engine(&bucket)
    }

    /// `time_bucket(interval, ts, zone)`, the interval as (months, days, nanoseconds) and as
    /// written (for the error).
    pub(crate) fn interval(parts: (i32, i32, i64), written: &str, zone_name: &str) -> Result<Self> {
        zone("time_bucket", zone_name)?;
        let (months, days, nanos) = parts;
        let bucket = zoned_interval(months, days, nanos, zone_name).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "time_bucket with a time zone takes whole days or calendar months ('1 day', '7 days', '1 month', \
                 '3 months', '1 year'), not {written}: buckets shorter than a day are the same in every zone with \
                 whole-hour offsets (write time_bucket(interval, ts)), date_trunc(unit, ts, zone) truncates to a \
                 local hour or minute"
            ))
        })?;
        engine(&bucket)
    }

    /// The start and end of the bucket holding `t`.
    fn bucket(&self, t: i64) -> (i64, i64) {
        match self {
            Self::Engine(b) => {
                let start = b.start_of(t);
                (start, b.end_of(start))
            }
            Self::Local { width, zone } => {
                // The offset can change within a unit (zones that move by half an hour): the end
                // is the start itself, so every row is computed afresh.
                let start = t.saturating_sub(t.saturating_add(offset_ns(zone, t)).rem_euclid(*width));
                (start, start)
            }
            Self::Week(zone) => {
                let date = instant(t).to_zoned(zone.clone()).date();
                let back = i64::from(date.weekday().to_monday_zero_offset());
                let monday = date.checked_sub(back.days()).unwrap_or(date);
                let start = midnight(monday, zone).unwrap_or(i64::MIN);
                let next = monday.checked_add(7.days()).ok().and_then(|d| midnight(d, zone)).unwrap_or(i64::MAX);
                (start, next)
            }
        }
    }

    /// The bucket start of every value of `ts` (a timestamp or an array of them), null where it
    /// is null, as `Timestamp(ns, "UTC")`.
    pub(crate) fn apply(&self, ts: &ColumnarValue) -> Result<ColumnarValue> {
        match ts {
            ColumnarValue::Scalar(s) => {
                let ScalarValue::TimestampNanosecond(v, _) = s.cast_to(&timestamp_type())? else {
                    return Err(DataFusionError::Internal(format!("a bucket of {s:?}")));
                };
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
                    v.map(|t| self.bucket(t).0),
                    Some("UTC".into()),
                )))
            }
            ColumnarValue::Array(a) => {
                let a = cast(a, &timestamp_type())?;
                let values = a.as_primitive::<TimestampNanosecondType>();
                let mut current: Option<(i64, i64)> = None;
                let starts: Vec<i64> = values
                    .values()
                    .iter()
                    .map(|&t| match current {
                        Some((start, end)) if start <= t && t < end => start,
                        _ => {
                            let bucket = self.bucket(t);
                            current = Some(bucket);
                            bucket.0
                        }
                    })
                    .collect();
                let out = TimestampNanosecondArray::new(starts.into(), values.nulls().cloned()).with_timezone("UTC");
                Ok(ColumnarValue::Array(Arc::new(out)))
            }
        }
    }
}

/// The engine's buckets for `bucket`, its refusal as a plan error.
fn engine(bucket: &Bucket) -> Result<Calendar> {
    BucketStarts::new(bucket).map(Calendar::Engine).map_err(|e| DataFusionError::Plan(e.to_string()))
}

/// `t` as an instant (every i64 nanosecond time is one).
fn instant(t: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(t)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The offset of `zone` at `t`, in nanoseconds.
fn offset_ns(zone: &TimeZone, t: i64) -> i64 {
    i64::from(zone.to_offset(instant(t)).seconds()) * 1_000_000_000
}

/// The first instant of `date` in `zone`, as the engine's local days begin.
fn midnight(date: jiff::civil::Date, zone: &TimeZone) -> Option<i64> {
    i64::try_from(date.to_zoned(zone.clone()).ok()?.timestamp().as_nanosecond()).ok()
}

/// The engine bucket of `date_trunc(unit, ts [, zone])` over `range` (`zone` `None`: UTC, the
/// two-argument form), where it gives the answer the function gives row by row.
pub(crate) fn trunc_bucket(unit: Unit, zone: Option<&str>, range: TimeRange) -> Option<Bucket> {
    if let Some(months) = unit.months() {
        return Some(Bucket::months(months, zone.map(str::to_owned)));
    }
    let (width, alignment) = match (unit.sub_day_ns(), unit) {
        (Some(width), _) => (width, 0),
        (None, Unit::Week) => (7 * DAY_NS, FIRST_MONDAY_NS),
        (None, _) => match zone {
            None => (DAY_NS, 0),
            Some(name) => return Some(Bucket::local_days(DAY_NS, name.to_owned())),
        },
    };
    let offset = match zone {
        None => 0,
        Some(name) => steady_offset(&isobar_query::parse_time_zone(name).ok()?, range, width)?,
    };
    // Local units start at `alignment + k * width` local, `offset` before that in UTC.
    Some(Bucket::fixed(width, alignment.checked_sub(offset)?.rem_euclid(width)))
}

/// The engine bucket of `time_bucket(interval, ts, zone)`.
pub(crate) fn interval_bucket(parts: (i32, i32, i64), zone: &str) -> Option<Bucket> {
    isobar_query::parse_time_zone(zone).ok()?;
    zoned_interval(parts.0, parts.1, parts.2, zone)
}

/// An offset of `zone` over `range` (nanoseconds) if every offset in force there is the same
/// modulo `width`, so local units of `width` are fixed buckets.
fn steady_offset(zone: &TimeZone, range: TimeRange, width: i64) -> Option<i64> {
    let from = instant(range.from);
    let first = offset_ns(zone, range.from);
    for (i, transition) in zone.following(from).enumerate() {
        if transition.timestamp().as_nanosecond() >= i128::from(range.to) {
            break;
        }
        let offset = i64::from(transition.offset().seconds()) * 1_000_000_000;
        if i >= MAX_TRANSITIONS || offset.rem_euclid(width) != first.rem_euclid(width) {
            return None;
        }
    }
    Some(first)
}

#[cfg(test)]
mod tests;
