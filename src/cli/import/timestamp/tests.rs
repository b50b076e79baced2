//! Tests of timestamp reading: every form, DST gaps and folds, hour-ending 24:00, units.

use super::*;

fn zone(name: &str) -> Option<(String, TimeZone)> {
    Some((name.to_owned(), parse_zone(name).expect("zone")))
}

const H: i64 = 3_600_000_000_000;
/// 1988-01-01T00:00:00Z in ns.
const Y1988: i64 = 567_993_600 * 1_000_000_000;

#[test]
fn forms_without_a_format() {
    let utc = TsParser::new(None, None, None);
    assert_eq!(utc.parse("1988-01-01T01:00:00Z"), Ok(Y1988 + H));
    assert_eq!(utc.parse("1988-01-01T06:00:00+05:00"), Ok(Y1988 + H));
    assert_eq!(utc.parse("1988-01-01T06:00:00+0500"), Ok(Y1988 + H));
    assert_eq!(utc.parse("1988-01-01"), Ok(Y1988));
    assert_eq!(utc.parse("1988-01-01 01:00:00"), Err(TsError::Naive));
    let berlin = TsParser::new(None, zone("Europe/Berlin"), None);
    assert_eq!(berlin.parse("1988-01-01 02:00:00"), Ok(Y1988 + H));
    assert_eq!(berlin.parse("1988-01-01T02:00"), Ok(Y1988 + H));
    assert_eq!(berlin.parse("1988-01-01"), Ok(Y1988 - H));
    assert_eq!(TsParser::new(None, zone("-05:00"), None).parse("1988-01-01 00:00"), Ok(Y1988 + 5 * H));
    assert_eq!(utc.parse("01/01/1988 01:00"), Err(TsError::NotTime));
}

#[test]
fn strftime_formats_and_hour_ending_midnight() {
    let lst = TsParser::new(Some("%m/%d/%Y %H:%M".into()), zone("Etc/GMT+5"), None);
    assert_eq!(lst.parse("01/01/1988 01:00"), Ok(Y1988 + 6 * H));
    // 24:00 of Dec 31 is midnight starting Jan 1.
    assert_eq!(lst.parse("12/31/1987 24:00"), Ok(Y1988 + 5 * H));
    let err = lst.parse("1988-01-01 01:00").expect_err("wrong format");
    assert!(matches!(err, TsError::Format { .. }), "{err}");
    let with_offset = TsParser::new(Some("%Y%m%d %H%M %z".into()), None, None);
    assert_eq!(with_offset.parse("19880101 0100 +0000"), Ok(Y1988 + H));
    let iso = TsParser::new(None, zone("UTC"), None);
    assert_eq!(iso.parse("1987-12-31T24:00:00Z"), Ok(Y1988));
    assert_eq!(iso.parse("1987-12-31 24:00"), Ok(Y1988));
    assert_eq!(iso.parse("1987-12-31 24:30"), Err(TsError::NotTime));
}

#[test]
fn dst_gaps_and_folds_are_refused_in_a_zone_with_dst() {
    let ny = TsParser::new(None, zone("America/New_York"), None);
    // 2024-03-10 02:30 does not exist; 2024-11-03 01:30 happens twice.
    assert_eq!(ny.parse("2024-03-10 02:30"), Err(TsError::Gap { zone: "America/New_York".into() }));
    assert_eq!(ny.parse("2024-11-03 01:30"), Err(TsError::Fold { zone: "America/New_York".into() }));
    // Summer time is UTC-4, winter time UTC-5.
    assert_eq!(
        ny.parse("2024-07-01 00:00"),
        "2024-07-01T04:00:00Z".parse::<Timestamp>().map(|t| t.as_nanosecond() as i64).map_err(|_| TsError::Range)
    );
    assert_eq!(
        ny.parse("2024-01-01 00:00"),
        "2024-01-01T05:00:00Z".parse::<Timestamp>().map(|t| t.as_nanosecond() as i64).map_err(|_| TsError::Range)
    );
}

#[test]
fn integers_are_checked_against_their_unit() {
    let plain = TsParser::new(None, None, None);
    let err = plain.parse("567993600").expect_err("seconds");
    assert!(matches!(err, TsError::Unit { likely: "s", .. }), "{err}");
    assert!(err.to_string().contains("--ts-unit s") && err.to_string().contains("1988-01-01T00:00:00Z"), "{err}");
    assert!(matches!(plain.parse("567993600000"), Err(TsError::Unit { likely: "ms", .. })));
    assert!(matches!(plain.parse("567993600000000"), Err(TsError::Unit { likely: "us", .. })));
    assert_eq!(plain.parse("567993600000000000"), Ok(Y1988));
    // Implausible in every unit: taken as nanoseconds, as before.
    assert_eq!(plain.parse("5"), Ok(5));
    let seconds = TsParser::new(None, None, Some(TsUnit::S));
    assert_eq!(seconds.parse("567993600"), Ok(Y1988));
    assert_eq!(TsParser::new(None, None, Some(TsUnit::Ms)).parse("567993600000"), Ok(Y1988));
    assert_eq!(TsParser::new(None, None, Some(TsUnit::Ns)).parse("567993600"), Ok(567_993_600));
    assert_eq!(seconds.parse("99999999999999"), Err(TsError::Range));
}

#[test]
fn zones_by_name_or_offset() {
    assert!(parse_zone("Europe/Berlin").is_ok());
    assert!(parse_zone("+05:30").is_ok());
    assert!(parse_zone("-0500").is_ok());
    let err = parse_zone("Mars/Olympus").expect_err("no such zone");
    assert!(err.contains("IANA name"), "{err}");
}
