//! [`Bucketing`]: which bucket a timestamp falls in, and where that bucket ends, for fixed-width
//! buckets and for calendar buckets (local days, months, years) in a time zone.
//!
//! Calendar buckets are computed per bucket, not per row: the aggregate finds a row's bucket
//! once and takes every following row before the bucket's end with a binary search, and a chunk
//! answered from statistics needs the bucket of its first and last time only.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::error::{Error, Result};
use crate::queries::Bucket;

/// Nanoseconds in a day of 24 hours.
const DAY_NS: i64 = 86_400_000_000_000;

/// The first day counted: buckets of several days are aligned to 1970-01-01, as fixed buckets
/// are aligned to the epoch.
const EPOCH_DAY: Date = jiff::civil::date(1970, 1, 1);

/// A checked bucket specification.
#[derive(Clone, Debug)]
pub(crate) enum Bucketing {
    /// `[origin + k * width, origin + (k + 1) * width)`.
    Fixed {
        /// Width, positive.
        width: i64,
        /// Alignment.
        origin: i64,
    },
    /// `days` local days from local midnight, counted from 1970-01-01.
    LocalDays {
        /// Days per bucket, positive.
        days: i64,
        /// The zone.
        zone: TimeZone,
    },
    /// `months` calendar months from the 1st at local midnight, counted from January 1970.
    Months {
        /// Months per bucket, positive.
        months: i64,
        /// The zone (UTC when the query named none).
        zone: TimeZone,
    },
}

impl Bucketing {
    /// Checks `b`: a positive width, or months; a known zone, only with whole days or months.
    pub(crate) fn new(b: &Bucket) -> Result<Self> {
        let zone = match &b.time_zone {
            None => None,
            Some(name) => Some(
                crate::zone::parse_time_zone(name).map_err(|reason| Error::TimeZone { name: name.clone(), reason })?,
            ),
        };
        if (zone.is_some() || b.months > 0) && b.origin_ns != 0 {
            return Err(Error::CalendarOrigin);
        }
        if b.months > 0 {
            if b.width_ns != 0 {
                return Err(Error::MonthsAndWidth { width_ns: b.width_ns, months: b.months });
            }
            return Ok(Self::Months { months: i64::from(b.months), zone: zone.unwrap_or(TimeZone::UTC) });
        }
        if b.width_ns <= 0 {
            return Err(Error::BucketWidth { width_ns: b.width_ns });
        }
        match zone {
            None => Ok(Self::Fixed { width: b.width_ns, origin: b.origin_ns }),
            Some(_) if b.width_ns % DAY_NS != 0 => {
                Err(Error::ZoneNeedsDays { width_ns: b.width_ns, zone: b.time_zone.clone().unwrap_or_default() })
            }
            Some(zone) => Ok(Self::LocalDays { days: b.width_ns / DAY_NS, zone }),
        }
    }

    /// The shortest a bucket can be, for bounding how many buckets a range holds.
    pub(crate) fn min_width_ns(&self) -> i64 {
        match self {
            Self::Fixed { width, .. } => *width,
            // A local day is at least 23 hours (a DST change of one hour; no zone moves more).
            Self::LocalDays { days, .. } => days.saturating_mul(23 * 3_600_000_000_000),
            Self::Months { months, .. } => months.saturating_mul(28 * DAY_NS - 3_600_000_000_000),
        }
    }

    /// Start of the bucket holding `ts`.
    pub(crate) fn start_of(&self, ts: i64) -> i64 {
        match self {
            Self::Fixed { width, origin } => {
                let (w, o) = (i128::from(*width), i128::from(*origin));
                let start = o + (i128::from(ts) - o).div_euclid(w) * w;
                i64::try_from(start).unwrap_or(i64::MIN)
            }
            Self::LocalDays { days, zone } => {
                let date = local_date(ts, zone);
                let since = EPOCH_DAY.until(date).map(|s| i64::from(s.get_days())).unwrap_or(0);
                let first = since.div_euclid(*days) * days;
                midnight(add_days(EPOCH_DAY, first), zone).unwrap_or(i64::MIN)
            }
            Self::Months { months, zone } => {
                let date = local_date(ts, zone);
                let index = (i64::from(date.year()) - 1970) * 12 + i64::from(date.month()) - 1;
                let first = index.div_euclid(*months) * months;
                month_start(first, zone).unwrap_or(i64::MIN)
            }
        }
    }

    /// First timestamp after the bucket starting at `start` (saturating at `i64::MAX`).
    pub(crate) fn end_of(&self, start: i64) -> i64 {
        match self {
            Self::Fixed { width, .. } => start.saturating_add(*width),
            Self::LocalDays { days, zone } => {
                midnight(add_days(local_date(start, zone), *days), zone).unwrap_or(i64::MAX)
            }
            Self::Months { months, zone } => {
                let date = local_date(start, zone);
                let index = (i64::from(date.year()) - 1970) * 12 + i64::from(date.month()) - 1;
                month_start(index + months, zone).unwrap_or(i64::MAX)
            }
        }
    }
}

/// The bucket starts of [`crate::aggregate()`] for a caller that buckets row by row (SQL's
/// `time_bucket` and `date_trunc` with a time zone, where DataFusion evaluates them): the
/// aggregate's own arithmetic, so that a grouping the engine answers and the same grouping
/// evaluated per row never disagree.
///
/// ```
/// use isobar_query::Bucket;
/// use isobar_query::aggregate::BucketStarts;
///
/// // 2024-03-31 in Berlin starts at 2024-03-30T23:00Z and lasts 23 hours.
/// let days = BucketStarts::new(&Bucket::local_days(86_400_000_000_000, "Europe/Berlin".into())).unwrap();
/// let start = days.start_of(1_711_886_400_000_000_000); // 2024-03-31T12:00:00Z
/// assert_eq!(start, 1_711_839_600_000_000_000);
/// assert_eq!(days.end_of(start) - start, 23 * 3_600_000_000_000);
/// ```
#[derive(Clone, Debug)]
pub struct BucketStarts(Bucketing);

impl BucketStarts {
    /// Checks `bucket` as [`crate::aggregate()`] does, with the same errors.
    pub fn new(bucket: &Bucket) -> Result<Self> {
        Bucketing::new(bucket).map(Self)
    }

    /// Start of the bucket holding `ts`.
    pub fn start_of(&self, ts: i64) -> i64 {
        self.0.start_of(ts)
    }

    /// First timestamp after the bucket starting at `start` (saturating at `i64::MAX`).
    pub fn end_of(&self, start: i64) -> i64 {
        self.0.end_of(start)
    }
}

/// The local calendar date of `ts` in `zone` (every i64 nanosecond time is within jiff's range).
fn local_date(ts: i64, zone: &TimeZone) -> Date {
    Timestamp::from_nanosecond(i128::from(ts)).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(zone.clone()).date()
}

/// `date` plus `days` (clamped to jiff's range, far beyond i64 nanoseconds).
fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(days.clamp(-7_000_000, 7_000_000).days()).unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// The first instant of `date` in `zone` (local midnight, or the end of a DST gap that skips
/// it), as nanoseconds; `None` outside i64 nanoseconds.
fn midnight(date: Date, zone: &TimeZone) -> Option<i64> {
    let zoned = date.to_zoned(zone.clone()).ok()?;
    i64::try_from(zoned.timestamp().as_nanosecond()).ok()
}

/// The first instant of month `index` (months since January 1970) in `zone`.
fn month_start(index: i64, zone: &TimeZone) -> Option<i64> {
    let year = i16::try_from(1970 + index.div_euclid(12)).ok()?;
    let month = i8::try_from(index.rem_euclid(12) + 1).ok()?;
    midnight(Date::new(year, month, 1).ok()?, zone)
}

#[cfg(test)]
mod tests;
