//! Snapshot names: checked before any path is built from them, and the default name.
//!
//! A name matches `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`: no path separator, no NUL, no leading dot
//! (so neither `.` nor `..`, nor the `.<name>.partial` work directories), at most 128 bytes.

use super::SnapshotError;

/// Longest snapshot name, in bytes.
pub const MAX_SNAPSHOT_NAME_LEN: usize = 128;

/// Checks a snapshot name; nothing touches the file system before this passes.
pub fn validate_snapshot_name(name: &str) -> Result<(), SnapshotError> {
    let first_ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_SNAPSHOT_NAME_LEN {
        Some("it is longer than 128 bytes")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
        Some("it contains a character other than A-Z, a-z, 0-9, _, - and . (a path separator or NUL?)")
    } else if !first_ok {
        Some("it starts with . or -")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(SnapshotError::InvalidName { name: printable(name), reason }),
    }
}

/// `name` with control characters escaped, cut at 64 characters.
fn printable(name: &str) -> String {
    let mut out: String = name.chars().take(64).flat_map(char::escape_default).collect();
    if name.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

/// The current UTC time as a snapshot name, e.g. `20261121T043000.125Z`.
pub fn default_snapshot_name() -> String {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    utc_name(since.as_secs() as i64, since.subsec_millis())
}

/// `secs` since the epoch (UTC) and `millis` as `YYYYMMDDTHHMMSS.mmmZ`.
fn utc_name(secs: i64, millis: u32) -> String {
    let (year, month, day, h, m, s) = civil(secs);
    format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}.{millis:03}Z")
}

/// Nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn utc_text(ns: i64) -> String {
    let (year, month, day, h, m, s) = civil(ns.div_euclid(1_000_000_000));
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Seconds since the epoch as UTC (year, month, day, hour, minute, second).
fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a proleptic Gregorian date, with 400-year eras starting in March.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_are_refused() {
        let long = "x".repeat(10_000);
        for name in ["", ".", "..", "../x", "a/b", "/abs", "a\\b", "a\0b", "-rf", ".hidden", "é", long.as_str()] {
            assert!(validate_snapshot_name(name).is_err(), "{name:?} accepted");
        }
        for name in ["nightly", "2026-11-21", "v1.2_final", &"y".repeat(128)] {
            assert!(validate_snapshot_name(name).is_ok(), "{name:?} refused");
        }
    }

    #[test]
    fn default_names_are_utc_times_that_validate() {
        assert_eq!(utc_name(0, 0), "19700101T000000.000Z");
        assert_eq!(utc_name(1_763_699_400, 125), "20251121T043000.125Z");
        assert_eq!(utc_name(951_782_400, 7), "20000229T000000.007Z");
        assert!(validate_snapshot_name(&default_snapshot_name()).is_ok());
        assert_eq!(utc_text(1_763_699_400_999_999_999), "2025-11-21T04:30:00Z");
    }
}
