//! Timestamps of imported rows: from text to nanoseconds since the epoch (UTC).
//!
//! Without `--ts-format` a field may be an integer (a count of `--ts-unit`, default
//! nanoseconds), an RFC 3339 time with an offset (`2024-05-01T12:00:00Z`, `...+02:00`,
//! `...+0200`), a date-time without an offset (`1988-01-01 01:00:00`, read in `--tz`), or a date
//! (midnight in `--tz`, UTC without it). With `--ts-format` the field is read with that
//! strftime-style format (`%m/%d/%Y %H:%M`); when the format has no offset (`%z`) the time is read
//! in `--tz`.
//!
//! Nothing is guessed silently: a local time without `--tz` is refused, a local time that does not
//! exist in the zone (skipped by a DST change) or happens twice (repeated by one) is refused, and an
//! integer without `--ts-unit` that is implausible as nanoseconds (before 1980 or after 2200) but
//! plausible in another unit is refused naming that unit. Hour-ending `24:00` (as in TMY3 and
//! many meteorological files) is midnight at the end of that day.

use clap::ValueEnum;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, fmt::strtime};

/// The unit of integer timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TsUnit {
    /// Seconds since the epoch.
    S,
    /// Milliseconds since the epoch.
    Ms,
    /// Microseconds since the epoch.
    Us,
    /// Nanoseconds since the epoch.
    Ns,
}

impl TsUnit {
    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            TsUnit::S => 1_000_000_000,
            TsUnit::Ms => 1_000_000,
            TsUnit::Us => 1_000,
            TsUnit::Ns => 1,
        }
    }

    /// The flag value naming this unit.
    pub fn name(self) -> &'static str {
        match self {
            TsUnit::S => "s",
            TsUnit::Ms => "ms",
            TsUnit::Us => "us",
            TsUnit::Ns => "ns",
        }
    }
}

/// 1980-01-01T00:00:00Z in nanoseconds: integer timestamps before it are implausible as ns.
pub const PLAUSIBLE_FROM_NS: i64 = 315_532_800 * 1_000_000_000;
/// 2200-01-01T00:00:00Z in nanoseconds: integer timestamps from it on are implausible as ns.
pub const PLAUSIBLE_TO_NS: i64 = 7_258_118_400 * 1_000_000_000;

/// Why a timestamp field cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    /// A date-time without an offset and no `--tz`.
    #[error(
        "has no offset or zone: give --tz ZONE to say where it is local time (e.g. --tz UTC, --tz Europe/Berlin, --tz -05:00)"
    )]
    Naive,
    /// A local time skipped by a DST change.
    #[error("does not exist in {zone}: the clocks skip it (daylight saving time starts)")]
    Gap {
        /// The zone.
        zone: String,
    },
    /// A local time repeated by a DST change.
    #[error(
        "is ambiguous in {zone}: the clocks pass it twice (daylight saving time ends); write the offset into the file \
         or use a zone without DST such as Etc/GMT+5"
    )]
    Fold {
        /// The zone.
        zone: String,
    },
    /// A field that does not match `--ts-format`.
    #[error("does not match --ts-format \"{format}\": {detail}")]
    Format {
        /// The format.
        format: String,
        /// The parser's explanation.
        detail: String,
    },
    /// None of the accepted forms.
    #[error(
        "is not a timestamp: expected an integer, RFC 3339 (2024-05-01T12:00:00Z), a date-time with --tz \
         (2024-05-01 12:00:00) or a date; give --ts-format for other forms (e.g. --ts-format '%m/%d/%Y %H:%M')"
    )]
    NotTime,
    /// An integer that is implausible as nanoseconds but plausible in another unit.
    #[error(
        "read as nanoseconds is {as_ns}, which is implausible; as {likely} it is {as_likely}: \
         give --ts-unit {likely} (or --ts-unit ns if nanoseconds are meant)"
    )]
    Unit {
        /// The time it would be as nanoseconds.
        as_ns: String,
        /// The unit it most likely is.
        likely: &'static str,
        /// The time it would be in that unit.
        as_likely: String,
    },
    /// Outside the range of 64-bit nanoseconds (1677 to 2262).
    #[error("is outside the range of nanosecond timestamps (years 1678 to 2261)")]
    Range,
}

/// Reads timestamp fields according to the import options.
#[derive(Clone, Debug)]
pub struct TsParser {
    format: Option<String>,
    tz: Option<(String, TimeZone)>,
    unit: Option<TsUnit>,
}

impl TsParser {
    /// A parser with an optional strftime format, zone (name and zone) and integer unit.
    pub fn new(format: Option<String>, tz: Option<(String, TimeZone)>, unit: Option<TsUnit>) -> Self {
        Self { format, tz, unit }
    }

    /// The nanoseconds since the epoch of `text`.
    pub fn parse(&self, text: &str) -> Result<i64, TsError> {
        let text = text.trim();
        let hour_ending = hour_ending(text);
        let (text, next_day) = match &hour_ending {
            Some(fixed) => (fixed.as_str(), true),
            None => (text, false),
        };
        if let Some(format) = &self.format {
            let tm = strtime::parse(format, text)
                .map_err(|e| TsError::Format { format: format.clone(), detail: e.to_string() })?;
            if tm.offset().is_some() {
                let ts =
                    tm.to_timestamp().map_err(|e| TsError::Format { format: format.clone(), detail: e.to_string() })?;
                return shift_day(nanos(ts)?, next_day);
            }
            let dt = tm.to_datetime().map_err(|e| TsError::Format { format: format.clone(), detail: e.to_string() })?;
            return self.local(dt, next_day);
        }
        if let Ok(n) = text.parse::<i64>() {
            return self.integer(n);
        }
        if let Ok(ts) = text.parse::<Timestamp>() {
            return shift_day(nanos(ts)?, next_day);
        }
        let date_only = !text.contains([' ', 'T', 't']);
        if let Some(date) = date_only.then(|| text.parse::<Date>().ok()).flatten() {
            if self.tz.is_none() {
                return nanos(date.to_zoned(TimeZone::UTC).map_err(|_| TsError::Range)?.timestamp());
            }
            return self.local(date.to_datetime(jiff::civil::Time::midnight()), false);
        }
        if let Ok(dt) = text.parse::<DateTime>() {
            return self.local(dt, next_day);
        }
        Err(TsError::NotTime)
    }

    /// An integer count of the unit (or checked nanoseconds).
    fn integer(&self, n: i64) -> Result<i64, TsError> {
        if let Some(unit) = self.unit {
            return n.checked_mul(unit.nanos()).ok_or(TsError::Range);
        }
        check_plausible_ns(n)
    }

    /// A civil date-time in the zone (one day later for hour-ending 24:00).
    fn local(&self, dt: DateTime, next_day: bool) -> Result<i64, TsError> {
        let Some((name, tz)) = &self.tz else { return Err(TsError::Naive) };
        let dt = if next_day { dt.date().tomorrow().map_err(|_| TsError::Range)?.to_datetime(dt.time()) } else { dt };
        let ambiguous = tz.to_ambiguous_timestamp(dt);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => {}
            AmbiguousOffset::Gap { .. } => return Err(TsError::Gap { zone: name.clone() }),
            AmbiguousOffset::Fold { .. } => return Err(TsError::Fold { zone: name.clone() }),
        }
        nanos(ambiguous.unambiguous().map_err(|_| TsError::Range)?)
    }
}

/// `n` as nanoseconds, refused when it is implausible as such but plausible in a coarser unit.
pub fn check_plausible_ns(n: i64) -> Result<i64, TsError> {
    let plausible = |ns: i64| (PLAUSIBLE_FROM_NS..PLAUSIBLE_TO_NS).contains(&ns);
    if plausible(n) {
        return Ok(n);
    }
    for unit in [TsUnit::S, TsUnit::Ms, TsUnit::Us] {
        if let Some(ns) = n.checked_mul(unit.nanos()).filter(|ns| plausible(*ns)) {
            return Err(TsError::Unit { as_ns: show(n), likely: unit.name(), as_likely: show(ns) });
        }
    }
    Ok(n)
}

/// An RFC 3339 rendering of `ns` for messages.
fn show(ns: i64) -> String {
    Timestamp::from_nanosecond(i128::from(ns)).map_or_else(|_| format!("{ns} ns"), |t| t.to_string())
}

/// Nanoseconds of a timestamp, if they fit in i64.
fn nanos(ts: Timestamp) -> Result<i64, TsError> {
    i64::try_from(ts.as_nanosecond()).map_err(|_| TsError::Range)
}

/// Adds a day for hour-ending `24:00` of a time with a fixed offset.
fn shift_day(ns: i64, next_day: bool) -> Result<i64, TsError> {
    if !next_day {
        return Ok(ns);
    }
    ns.checked_add(86_400_000_000_000).ok_or(TsError::Range)
}

/// For a time of day `24:00` (or `24:00:00`, `24:00:00.000`) at the start of the text or after a
/// space or `T`: the text with `00:00` instead (the caller adds the day); else `None`.
fn hour_ending(text: &str) -> Option<String> {
    let at = text
        .match_indices("24:00")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || matches!(text.as_bytes().get(i.wrapping_sub(1)), Some(b' ' | b'T' | b't')))?;
    let rest = text.get(at + 5..)?;
    let seconds = rest.strip_prefix(":00").map_or(rest, |r| r.trim_start_matches(['.', '0']));
    let ends_clean = seconds.is_empty() || seconds.starts_with(['Z', 'z', '+', '-', ' ']);
    if !ends_clean {
        return None;
    }
    Some(format!("{}00:00{}", text.get(..at)?, rest))
}

/// A zone from `--tz`: an IANA name (`Europe/Berlin`, `UTC`, `Etc/GMT+5`) or a fixed offset
/// (`+05:30`, `-0500`, `-05`); the same reading as the server's.
pub fn parse_zone(name: &str) -> Result<TimeZone, String> {
    isobar_query::parse_time_zone(name)
}

#[cfg(test)]
mod tests;
