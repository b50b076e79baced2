//! [`parse_time_zone`]: a time zone from its name, as every front end (the gRPC API, the CLI's
//! `--tz`) reads it.

use jiff::tz::{Offset, TimeZone};

/// A zone from an IANA name (`Europe/Berlin`, `UTC`, `Etc/GMT+5`, from the time-zone database
/// built into the binary) or a fixed offset (`+05:30`, `-0500`, `-05`); the error says what was
/// expected.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, String> {
    if let Some(offset) = parse_offset(name) {
        return Ok(TimeZone::fixed(offset));
    }
    TimeZone::get(name).map_err(|_| {
        format!("\"{name}\" is not a time zone: give an IANA name (UTC, Europe/Berlin, America/New_York) or an offset (-05:00)")
    })
}

/// `[+-]HH[:MM]` or `[+-]HHMM`.
fn parse_offset(s: &str) -> Option<Offset> {
    let (sign, rest) = match s.split_at_checked(1)? {
        ("+", r) => (1, r),
        ("-", r) => (-1, r),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 1 | 2 | 4) {
        return None;
    }
    let (h, m) = if digits.len() == 4 { digits.split_at(2) } else { (digits.as_str(), "0") };
    let seconds = sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60);
    Offset::from_seconds(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_offsets() {
        assert!(parse_time_zone("Europe/Berlin").is_ok());
        assert_eq!(parse_time_zone("+05:30"), Ok(TimeZone::fixed(Offset::from_seconds(19_800).unwrap())));
        assert_eq!(parse_time_zone("-0500"), Ok(TimeZone::fixed(Offset::from_seconds(-18_000).unwrap())));
        assert_eq!(parse_time_zone("-05"), Ok(TimeZone::fixed(Offset::from_seconds(-18_000).unwrap())));
        let err = parse_time_zone("Mars/Olympus").expect_err("no such zone");
        assert!(err.contains("IANA name"), "{err}");
        assert!(parse_time_zone("+5:3x").is_err());
    }
}
