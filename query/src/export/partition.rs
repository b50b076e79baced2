//! [`Partition`]: how an export splits its files into Hive-style directories by UTC calendar
//! period, [`Partitioning`]: what a request asks for, and [`auto_partition`]: the rule
//! [`Partitioning::Auto`] follows.
//!
//! | partition | directory | readers see |
//! |---|---|---|
//! | [`Partition::None`] | none: `dest/part-N.parquet` | no extra column |
//! | [`Partition::Day`] | `dest/date=YYYY-MM-DD/` | `date` (DuckDB and Polars: a date) |
//! | [`Partition::Month`] | `dest/month=YYYY-MM/` | `month` (a string) |
//! | [`Partition::Year`] | `dest/year=YYYY/` | `year` (an integer) |
//!
//! A row goes to the period its `ts` falls in, in UTC.

use serde::{Deserialize, Serialize};

use super::date::{self, DAY_NS};

/// Directories by calendar period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    /// One directory: the part files directly under the destination.
    None,
    /// `date=YYYY-MM-DD` (UTC day; the only layout before partitioning was configurable).
    #[default]
    Day,
    /// `month=YYYY-MM`.
    Month,
    /// `year=YYYY`.
    Year,
}

/// The partitioning a request asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioning {
    /// Chosen from the data by [`auto_partition`].
    Auto,
    /// No partitions.
    None,
    /// By UTC day (the default, as before this choice existed).
    #[default]
    Day,
    /// By UTC month.
    Month,
    /// By UTC year.
    Year,
}

impl Partitioning {
    /// The partition asked for, `None` for [`Partitioning::Auto`].
    pub fn fixed(self) -> Option<Partition> {
        match self {
            Partitioning::Auto => None,
            Partitioning::None => Some(Partition::None),
            Partitioning::Day => Some(Partition::Day),
            Partitioning::Month => Some(Partition::Month),
            Partitioning::Year => Some(Partition::Year),
        }
    }
}

/// The period a timestamp falls in: its key (unique per period, increasing with time) and its
/// bounds `[from, to)` in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    /// Day number, month number (`year * 12 + month - 1`), year, or 0 without partitions.
    pub key: i64,
    /// First nanosecond of the period.
    pub from: i64,
    /// First nanosecond after it.
    pub to: i64,
}

impl Period {
    /// True when `ts` falls in this period.
    pub fn holds(&self, ts: i64) -> bool {
        self.from <= ts && ts < self.to
    }
}

/// Nanoseconds of day number `days`, saturating at the ends of `i64`.
fn day_start(days: i64) -> i64 {
    days.saturating_mul(DAY_NS)
}

impl Partition {
    /// Every partition, finest last.
    pub const ALL: [Partition; 4] = [Partition::None, Partition::Year, Partition::Month, Partition::Day];

    /// The period `ts` falls in.
    pub(crate) fn period(self, ts: i64) -> Period {
        let day = date::day_of(ts);
        match self {
            Partition::None => Period { key: 0, from: i64::MIN, to: i64::MAX },
            Partition::Day => Period { key: day, from: day_start(day), to: day_start(day + 1) },
            Partition::Month => {
                let (y, m, _) = date::civil(day);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Period {
                    key: y * 12 + i64::from(m) - 1,
                    from: day_start(date::days_from_civil(y, m, 1)),
                    to: day_start(date::days_from_civil(ny, nm, 1)),
                }
            }
            Partition::Year => {
                let (y, _, _) = date::civil(day);
                Period {
                    key: y,
                    from: day_start(date::days_from_civil(y, 1, 1)),
                    to: day_start(date::days_from_civil(y + 1, 1, 1)),
                }
            }
        }
    }

    /// The Hive column readers see (`date`, `month`, `year`); `None` without partitions.
    pub fn column(self) -> Option<&'static str> {
        match self {
            Partition::None => None,
            Partition::Day => Some("date"),
            Partition::Month => Some("month"),
            Partition::Year => Some("year"),
        }
    }

    /// The partition value of period `key`: `YYYY-MM-DD`, `YYYY-MM`, `YYYY`; empty without
    /// partitions.
    pub(crate) fn value(self, key: i64) -> String {
        match self {
            Partition::None => String::new(),
            Partition::Day => date::date_string(key),
            Partition::Month => format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            Partition::Year => format!("{key:04}"),
        }
    }

    /// The directory of period `key` (`date=2024-05-01`), `None` without partitions.
    pub(crate) fn dir(self, key: i64) -> Option<String> {
        self.column().map(|c| format!("{c}={}", self.value(key)))
    }

    /// The name a person reads (`none`, `day`, `month`, `year`).
    pub fn name(self) -> &'static str {
        match self {
            Partition::None => "none",
            Partition::Day => "day",
            Partition::Month => "month",
            Partition::Year => "year",
        }
    }
}

/// At most this many cells (rows times columns, `series` and `ts` included) make an export
/// small: about 32 MiB of 8-byte values, a few MiB to a few tens of MiB of Parquet, one file
/// of the default target size. A small export is not partitioned.
pub const SMALL_EXPORT_CELLS: u64 = 4 << 20;

/// What [`auto_partition`] looks at: the times of the first and last rows and the cells of an
/// export (measured or estimated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// Time of the earliest row (`None`: no rows).
    pub first: Option<i64>,
    /// Time of the latest row.
    pub last: Option<i64>,
    /// Rows times columns (`series` and `ts` included).
    pub cells: u64,
}

impl Extent {
    /// Widens the extent by `rows` rows of `columns` columns between `first` and `last`.
    pub fn add(&mut self, first: i64, last: i64, rows: u64, columns: u64) {
        self.first = Some(self.first.map_or(first, |f| f.min(first)));
        self.last = Some(self.last.map_or(last, |l| l.max(last)));
        self.cells = self.cells.saturating_add(rows.saturating_mul(columns));
    }
}

/// The partition [`Partitioning::Auto`] chooses:
///
/// - **none** when the export is small (at most [`SMALL_EXPORT_CELLS`] cells) or its rows lie
///   within one day (last row less than 24 h after the first): partitions would only make
///   small files smaller;
/// - **day** when the rows span at most 31 days;
/// - **month** when they span at most two years (731 days);
/// - **year** beyond.
///
/// The span is that of the data the export holds (its first and last rows inside the requested
/// range), not of the range asked for, so an open range is judged by its data.
pub fn auto_partition(extent: &Extent) -> Partition {
    let (Some(first), Some(last)) = (extent.first, extent.last) else { return Partition::None };
    if extent.cells <= SMALL_EXPORT_CELLS {
        return Partition::None;
    }
    let span = last.saturating_sub(first);
    if span < DAY_NS {
        Partition::None
    } else if span <= 31 * DAY_NS {
        Partition::Day
    } else if span <= 731 * DAY_NS {
        Partition::Month
    } else {
        Partition::Year
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T2024: i64 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z

    #[test]
    fn periods_hold_their_timestamps_and_name_their_directories() {
        let ts = T2024 + 59 * DAY_NS + 3_600_000_000_000; // 2024-02-29T01:00Z
        let day = Partition::Day.period(ts);
        assert!(day.holds(ts) && day.to - day.from == DAY_NS);
        assert_eq!(Partition::Day.dir(day.key).as_deref(), Some("date=2024-02-29"));
        let month = Partition::Month.period(ts);
        assert_eq!(Partition::Month.dir(month.key).as_deref(), Some("month=2024-02"));
        assert_eq!((month.from, month.to), (T2024 + 31 * DAY_NS, T2024 + 60 * DAY_NS), "29 days: a leap year");
        let year = Partition::Year.period(ts);
        assert_eq!(Partition::Year.dir(year.key).as_deref(), Some("year=2024"));
        assert_eq!((year.from, year.to), (T2024, T2024 + 366 * DAY_NS));
        let none = Partition::None.period(ts);
        assert!(none.holds(i64::MIN) && none.holds(i64::MAX - 1));
        assert_eq!(Partition::None.dir(none.key), None);
    }

    #[test]
    fn december_ends_its_year_and_the_epoch_splits_cleanly() {
        let last_ns_of_2023 = T2024 - 1;
        let dec = Partition::Month.period(last_ns_of_2023);
        assert_eq!(Partition::Month.value(dec.key), "2023-12");
        assert_eq!(dec.to, T2024);
        assert!(!dec.holds(T2024));
        assert_eq!(Partition::Month.value(Partition::Month.period(T2024).key), "2024-01");
        assert_eq!(Partition::Year.value(Partition::Year.period(-1).key), "1969");
        assert_eq!(Partition::Month.value(Partition::Month.period(-1).key), "1969-12");
        assert_eq!(Partition::Day.value(Partition::Day.period(-1).key), "1969-12-31");
    }

    #[test]
    fn every_timestamp_falls_in_the_period_it_keys() {
        for partition in Partition::ALL {
            let mut ts = T2024 - 400 * DAY_NS;
            while ts < T2024 + 800 * DAY_NS {
                let p = partition.period(ts);
                assert!(p.holds(ts), "{partition:?} {ts}");
                assert_eq!(partition.period(p.from), p, "{partition:?}: the first ns is inside");
                if p.to < i64::MAX {
                    assert_ne!(partition.period(p.to).key, p.key, "{partition:?}: the next period is another");
                }
                ts += 7 * DAY_NS + 3_600_000_000_000;
            }
        }
    }

    fn extent(span_ns: i64, cells: u64) -> Extent {
        Extent { first: Some(T2024), last: Some(T2024 + span_ns), cells }
    }

    #[test]
    fn auto_follows_the_documented_rule() {
        let big = SMALL_EXPORT_CELLS + 1;
        assert_eq!(auto_partition(&Extent::default()), Partition::None, "no rows");
        assert_eq!(auto_partition(&extent(3 * 365 * DAY_NS, SMALL_EXPORT_CELLS)), Partition::None, "small");
        assert_eq!(auto_partition(&extent(DAY_NS - 1, big)), Partition::None, "within a day");
        assert_eq!(auto_partition(&extent(DAY_NS, big)), Partition::Day);
        assert_eq!(auto_partition(&extent(31 * DAY_NS, big)), Partition::Day);
        assert_eq!(auto_partition(&extent(31 * DAY_NS + 1, big)), Partition::Month);
        assert_eq!(auto_partition(&extent(731 * DAY_NS, big)), Partition::Month);
        assert_eq!(auto_partition(&extent(731 * DAY_NS + 1, big)), Partition::Year);
        let everything = Extent { first: Some(i64::MIN), last: Some(i64::MAX), cells: big };
        assert_eq!(auto_partition(&everything), Partition::Year, "no overflow");
    }

    #[test]
    fn one_year_of_two_hourly_stations_is_one_file() {
        // The case of issue 25: 2 series x 8,760 hours x (series, ts, 3 values).
        let mut e = Extent::default();
        for _ in 0..2 {
            e.add(T2024, T2024 + 8759 * 3_600_000_000_000, 8760, 5);
        }
        assert_eq!(e.cells, 87_600);
        assert_eq!(auto_partition(&e), Partition::None);
    }
}
