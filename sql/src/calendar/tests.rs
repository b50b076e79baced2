use super::*;

/// Nanoseconds of an RFC 3339 instant.
fn at(s: &str) -> i64 {
    i64::try_from(s.parse::<Timestamp>().expect("instant").as_nanosecond()).expect("i64")
}

fn start(c: &Calendar, t: &str) -> i64 {
    c.bucket(at(t)).0
}

#[test]
fn units_and_their_refusal() {
    assert_eq!(Unit::parse("Month").expect("unit"), Unit::Month);
    let err = Unit::parse("fortnight").expect_err("no such unit").to_string();
    assert!(err.contains("unknown unit 'fortnight'") && err.contains("hour, day, week, month, quarter, year"), "{err}");
}

#[test]
fn weeks_start_on_local_monday_midnight() {
    let c = Calendar::truncation(Unit::Week, "Europe/Berlin").expect("week");
    // Sunday 2024-03-31 (23 hours long) belongs to the week from Monday 2024-03-25, CET.
    assert_eq!(start(&c, "2024-03-31T21:59:59Z"), at("2024-03-24T23:00:00Z"));
    // Monday 2024-04-01 00:00 CEST is 2024-03-31T22:00Z.
    assert_eq!(start(&c, "2024-03-31T22:00:00Z"), at("2024-03-31T22:00:00Z"));
    assert_eq!(c.bucket(at("2024-03-27T12:00:00Z")).1, at("2024-03-31T22:00:00Z"));
}

#[test]
fn sub_day_units_keep_the_offset_in_force() {
    let kolkata = Calendar::truncation(Unit::Hour, "Asia/Kolkata").expect("hour");
    assert_eq!(start(&kolkata, "2024-05-01T10:29:00Z"), at("2024-05-01T09:30:00Z"));
    assert_eq!(start(&kolkata, "2024-05-01T10:30:00Z"), at("2024-05-01T10:30:00Z"));
    // Berlin's repeated hour (02:00-03:00 twice on 2024-10-27) is two hours.
    let berlin = Calendar::truncation(Unit::Hour, "Europe/Berlin").expect("hour");
    assert_eq!(start(&berlin, "2024-10-27T00:30:00Z"), at("2024-10-27T00:00:00Z"));
    assert_eq!(start(&berlin, "2024-10-27T01:30:00Z"), at("2024-10-27T01:00:00Z"));
}

#[test]
fn days_months_and_years_are_the_engines() {
    let day = Calendar::truncation(Unit::Day, "Europe/Berlin").expect("day");
    assert_eq!(day.bucket(at("2024-10-27T12:00:00Z")), (at("2024-10-26T22:00:00Z"), at("2024-10-27T23:00:00Z")));
    let quarter = Calendar::truncation(Unit::Quarter, "America/New_York").expect("quarter");
    assert_eq!(start(&quarter, "2024-07-01T03:00:00Z"), at("2024-04-01T04:00:00Z"));
    let year = Calendar::interval((12, 0, 0), "'1 year'", "+05:30").expect("year");
    assert_eq!(start(&year, "2024-12-31T19:00:00Z"), at("2024-12-31T18:30:00Z"));
    let err = Calendar::interval((0, 0, 3_600_000_000_000), "'1 hour'", "Europe/Berlin").expect_err("hours");
    assert!(err.to_string().contains("whole days or calendar months"), "{err}");
    let err = Calendar::truncation(Unit::Day, "Mars/Olympus").expect_err("zone").to_string();
    assert!(err.contains("\"Mars/Olympus\" is not a time zone"), "{err}");
}

#[test]
fn push_down_only_where_the_engine_has_the_same_buckets() {
    let year_2024 = TimeRange::new(at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"));
    let hour = 3_600_000_000_000;
    // Whole-hour zones over a modern range: whole UTC hours.
    assert_eq!(trunc_bucket(Unit::Hour, Some("Europe/Berlin"), year_2024), Some(Bucket::fixed(hour, 0)));
    // +05:30: hours start at half past.
    assert_eq!(trunc_bucket(Unit::Hour, Some("Asia/Kolkata"), year_2024), Some(Bucket::fixed(hour, hour / 2)));
    // Berlin's local mean time (+00:53:28, until 1893) is in an unbounded range.
    assert_eq!(trunc_bucket(Unit::Hour, Some("Europe/Berlin"), TimeRange::ALL), None);
    // Monday weeks: fixed in UTC and in a fixed offset, not across DST.
    assert_eq!(trunc_bucket(Unit::Week, None, TimeRange::ALL), Some(Bucket::fixed(7 * DAY_NS, FIRST_MONDAY_NS)));
    assert_eq!(
        trunc_bucket(Unit::Week, Some("-05:00"), TimeRange::ALL),
        Some(Bucket::fixed(7 * DAY_NS, FIRST_MONDAY_NS + 5 * hour))
    );
    assert_eq!(trunc_bucket(Unit::Week, Some("Europe/Berlin"), year_2024), None);
    assert_eq!(
        trunc_bucket(Unit::Day, Some("Europe/Berlin"), TimeRange::ALL),
        Some(Bucket::local_days(DAY_NS, "Europe/Berlin".into()))
    );
    assert_eq!(trunc_bucket(Unit::Quarter, None, TimeRange::ALL), Some(Bucket::months(3, None)));
    assert_eq!(
        interval_bucket((0, 7, 0), "America/New_York"),
        Some(Bucket::local_days(7 * DAY_NS, "America/New_York".into()))
    );
    assert_eq!(interval_bucket((1, 1, 0), "America/New_York"), None);
}
