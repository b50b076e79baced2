//! Time arguments: `--from`, `--to`, `--origin`, and the zone `--tz` they may be read in.
//!
//! Accepted forms: an integer count of nanoseconds since the epoch (`1700000000000000000`),
//! an RFC 3339 time (`2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.25+02:00`), a date
//! (`2024-05-01`: midnight in `--tz`, UTC without it), `now`, or `now` plus or minus a duration
//! (`now-1h`, `now+15m`).
//!
//! Lenient where it stays unambiguous: a space for `T`, minutes without seconds
//! (`2024-05-01 12:00Z`), offsets without a colon or minutes (`+0200`, `+02`), and a date-time
//! without `Z` or an offset (`2024-05-01 12:00`) when `--tz` says which zone it is in. Without
//! `--tz` such a time is refused with a message that says to add one: it could be any zone; a
//! local time that a DST change skips or repeats is refused too, naming both readings.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::DurationValue;

/// A time argument that is none of the accepted forms.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{input}\" is not a time: use nanoseconds since the epoch, RFC 3339 (2024-05-01T12:00:00Z), a date (2024-05-01), now, \
     or now-1h; a date-time needs Z or an offset (2024-05-01 12:00Z, 2024-05-01T12:00+02:00), or --tz, since it could be any zone"
)]
pub struct TimeError {
    /// The rejected text.
    pub input: String,
}

/// A time argument as given: an instant, or a local date or date-time read in `--tz`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeArg {
    /// Nanoseconds since the epoch (every form that names one instant, `now` included).
    Instant(i64),
    /// A date: local midnight in `--tz`, UTC midnight without it.
    Date(jiff::civil::Date),
    /// A date-time without an offset: needs `--tz`.
    Local(jiff::civil::DateTime),
}

/// A local time the zone cannot turn into one instant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    /// No zone to read a local time in.
    #[error("\"{input}\" has no zone: add Z or an offset (2024-05-01 12:00Z), or give --tz (e.g. --tz Europe/Berlin)")]
    NoZone {
        /// The time as given.
        input: String,
    },
    /// A local time skipped or repeated by a DST change.
    #[error("\"{input}\" is {reason} in {zone}; give an offset to say which instant is meant")]
    Ambiguous {
        /// The time as given.
        input: String,
        /// The zone.
        zone: String,
        /// "skipped (a DST gap)" or "repeated (...)".
        reason: String,
    },
}

impl TimeArg {
    /// The instant, reading local forms in `zone`.
    pub fn resolve(self, zone: Option<&jiff::tz::TimeZone>) -> Result<i64, LocalTimeError> {
        let nanos = |z: jiff::Zoned| i64::try_from(z.timestamp().as_nanosecond()).unwrap_or(i64::MAX);
        match (self, zone) {
            (TimeArg::Instant(ns), _) => Ok(ns),
            (TimeArg::Date(d), None) => d
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(nanos)
                .map_err(|_| LocalTimeError::NoZone { input: d.to_string() }),
            (TimeArg::Date(d), Some(z)) => {
                d.to_zoned(z.clone()).map(nanos).map_err(|_| LocalTimeError::NoZone { input: d.to_string() })
            }
            (TimeArg::Local(dt), None) => Err(LocalTimeError::NoZone { input: dt.to_string() }),
            (TimeArg::Local(dt), Some(z)) => {
                let ambiguous = z.to_ambiguous_zoned(dt);
                let zone = z.iana_name().unwrap_or("the zone").to_owned();
                if ambiguous.is_ambiguous() {
                    let reason = match ambiguous.offset() {
                        jiff::tz::AmbiguousOffset::Gap { .. } => "skipped by a DST change".to_owned(),
                        jiff::tz::AmbiguousOffset::Fold { before, after } => {
                            format!("repeated by a DST change (offset {before} or {after})")
                        }
                        jiff::tz::AmbiguousOffset::Unambiguous { .. } => String::new(),
                    };
                    return Err(LocalTimeError::Ambiguous { input: dt.to_string(), zone, reason });
                }
                ambiguous.unambiguous().map(nanos).map_err(|_| LocalTimeError::NoZone { input: dt.to_string() })
            }
        }
    }
}

/// A time zone given with `--tz`, with the name it was given by.
#[derive(Clone, Debug)]
pub struct Zone {
    /// As given (`Europe/Berlin`, `-05:00`).
    pub name: String,
    /// The zone.
    pub tz: jiff::tz::TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// Parses `--tz` (clap value parser).
pub fn parse_zone_arg(s: &str) -> Result<Zone, String> {
    isobar_query::parse_time_zone(s).map(|tz| Zone { name: s.to_owned(), tz })
}

/// Parses `--from`/`--to` (clap value parser): instants now, local forms once `--tz` is known.
pub fn parse_time_arg(s: &str) -> Result<TimeArg, TimeError> {
    let t = s.trim();
    if let Ok(date) = t.parse::<jiff::civil::Date>()
        && t.len() == 10
    {
        return Ok(TimeArg::Date(date));
    }
    match parse_time(t) {
        Ok(ns) => Ok(TimeArg::Instant(ns)),
        Err(e) => t.parse::<jiff::civil::DateTime>().map(TimeArg::Local).map_err(|_| e),
    }
}

/// Parses a time argument against the system clock (clap value parser).
pub fn parse_time(s: &str) -> Result<i64, TimeError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    parse_time_at(s, now)
}

/// Parses a time argument; `now` is `now_ns`.
pub fn parse_time_at(s: &str, now_ns: i64) -> Result<i64, TimeError> {
    let err = || TimeError { input: s.to_owned() };
    let s = s.trim();
    if let Ok(ns) = s.parse::<i64>() {
        return Ok(ns);
    }
    if let Some(rest) = s.strip_prefix("now") {
        if rest.is_empty() {
            return Ok(now_ns);
        }
        let (sign, duration) = match rest.split_at_checked(1) {
            Some(("-", d)) => (-1i64, d),
            Some(("+", d)) => (1, d),
            _ => return Err(err()),
        };
        let DurationValue(d) = duration.parse().map_err(|_| err())?;
        let offset = i64::try_from(d.as_nanos()).map_err(|_| err())?;
        return now_ns.checked_add(sign * offset).ok_or_else(err);
    }
    if let Some(ns) = parse_rfc3339(s) {
        return Ok(ns);
    }
    lenient(s).ok_or_else(err)
}

/// The other unambiguous forms (jiff's RFC 3339 / ISO 8601 reader: `+0200`, `12:00Z`, ...).
fn lenient(s: &str) -> Option<i64> {
    let ts = s.parse::<jiff::Timestamp>().ok()?;
    i64::try_from(ts.as_nanosecond()).ok()
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (a space may replace `T`).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if s.len() == 10 {
        return days.checked_mul(86_400_000_000_000);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let (f, tail) = frac.split_at_checked(digits)?;
        nanos = f.parse::<i64>().ok()? * 10i64.pow(9 - digits as u32);
        rest = tail;
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.get(3..4) != Some(":") {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(parse_time_at("123", NOW), Ok(123));
        assert_eq!(parse_time_at("-5", NOW), Ok(-5));
        assert_eq!(parse_time_at("now", NOW), Ok(NOW));
        assert_eq!(parse_time_at("now-1h", NOW), Ok(NOW - 3_600_000_000_000));
        assert_eq!(parse_time_at("now+15m", NOW), Ok(NOW + 900_000_000_000));
        assert_eq!(parse_time_at("1970-01-01", NOW), Ok(0));
        assert_eq!(parse_time_at("2023-11-14T22:13:20Z", NOW), Ok(NOW));
        assert_eq!(parse_time_at("2023-11-15T00:13:20+02:00", NOW), Ok(NOW));
        assert_eq!(parse_time_at("2023-11-14 22:13:20.25Z", NOW), Ok(NOW + 250_000_000));
        assert_eq!(parse_time_at("1969-12-31T23:59:59Z", NOW), Ok(-1_000_000_000));
        assert_eq!(parse_time_at("2024-02-29", NOW), Ok(19_782 * 86_400_000_000_000));
    }

    #[test]
    fn lenient_forms_that_stay_unambiguous() {
        // `+0200` used to be refused (see refuses_anything_else); it names one instant.
        assert_eq!(parse_time_at("2023-11-14T22:13:20+0000", NOW), Ok(NOW));
        assert_eq!(parse_time_at("2023-11-15T00:13:20+0200", NOW), Ok(NOW));
        assert_eq!(parse_time_at("2023-11-15 00:13:20+02", NOW), Ok(NOW));
        assert_eq!(parse_time_at("2023-11-14 22:00Z", NOW), Ok(NOW - 800_000_000_000));
        let naive = parse_time_at("2023-11-14 22:13", NOW).expect_err("no zone").to_string();
        assert!(naive.contains("needs Z or an offset"), "{naive}");
    }

    #[test]
    fn local_forms_are_read_in_the_zone_and_refused_without_one() {
        let berlin = parse_zone_arg("Europe/Berlin").expect("zone").tz;
        let local = |s: &str, z: Option<&jiff::tz::TimeZone>| parse_time_arg(s).expect("parses").resolve(z);
        // A date is UTC midnight without a zone (as before) and local midnight with one.
        assert_eq!(local("2024-05-01", None), Ok(19_844 * 86_400_000_000_000));
        assert_eq!(local("2024-05-01", Some(&berlin)), Ok(19_844 * 86_400_000_000_000 - 2 * 3_600_000_000_000));
        assert_eq!(local("2024-05-01 12:00", Some(&berlin)), Ok(19_844 * 86_400_000_000_000 + 10 * 3_600_000_000_000));
        assert_eq!(local("2024-05-01T12:00:30", Some(&berlin)), Ok(19_844 * 86_400_000_000_000 + 36_030_000_000_000));
        let err = local("2024-05-01 12:00", None).expect_err("no zone").to_string();
        assert!(err.contains("has no zone") && err.contains("--tz"), "{err}");
        // An instant ignores the zone.
        assert_eq!(local("2023-11-14T22:13:20Z", Some(&berlin)), Ok(NOW));
        // 02:30 on 2024-03-31 does not exist in Berlin; 02:30 on 2024-10-27 happens twice.
        let gap = local("2024-03-31 02:30", Some(&berlin)).expect_err("gap").to_string();
        assert!(gap.contains("skipped by a DST change in Europe/Berlin"), "{gap}");
        let fold = local("2024-10-27 02:30", Some(&berlin)).expect_err("fold").to_string();
        assert!(fold.contains("repeated by a DST change") && fold.contains("+02") && fold.contains("+01"), "{fold}");
        assert!(parse_time_arg("01/05/2024").is_err(), "day and month order is ambiguous");
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "yesterday",
            "now-",
            "now*1h",
            "2023-13-01",
            "2023-02-29",
            "2023-11-14T25:00:00Z",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.Z",
            "2023-11-14 22:13",
            "99999999999999999999",
        ] {
            assert_eq!(parse_time_at(bad, NOW), Err(TimeError { input: bad.into() }), "{bad}");
        }
    }
}
