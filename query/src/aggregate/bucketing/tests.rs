use super::*;

/// Nanoseconds of an RFC 3339 instant.
fn at(s: &str) -> i64 {
    i64::try_from(s.parse::<Timestamp>().expect("instant").as_nanosecond()).expect("i64")
}

fn months(n: u32, zone: Option<&str>) -> Bucketing {
    Bucketing::new(&Bucket::months(n, zone.map(str::to_owned))).expect("months")
}

fn days(n: i64, zone: &str) -> Bucketing {
    Bucketing::new(&Bucket::local_days(n * DAY_NS, zone.to_owned())).expect("days")
}

#[test]
fn local_days_follow_dst_in_berlin() {
    let b = days(1, "Europe/Berlin");
    // 2024-03-31 is 23 hours long in Berlin (CET -> CEST at 02:00 local).
    let start = b.start_of(at("2024-03-31T12:00:00Z"));
    assert_eq!(start, at("2024-03-30T23:00:00Z"));
    assert_eq!(b.end_of(start), at("2024-03-31T22:00:00Z"));
    // 2024-10-27 is 25 hours long (CEST -> CET).
    let start = b.start_of(at("2024-10-27T12:00:00Z"));
    assert_eq!(start, at("2024-10-26T22:00:00Z"));
    assert_eq!(b.end_of(start), at("2024-10-27T23:00:00Z"));
    // The last instant of a local day stays in it; the next starts the next day.
    assert_eq!(b.start_of(at("2024-10-27T22:59:59.999999999Z")), at("2024-10-26T22:00:00Z"));
    assert_eq!(b.start_of(at("2024-10-27T23:00:00Z")), at("2024-10-27T23:00:00Z"));
}

#[test]
fn several_days_align_to_1970_01_01_local() {
    let b = days(7, "UTC");
    // 1970-01-01 was a Thursday; weeks of this bucketing start on Thursdays.
    assert_eq!(b.start_of(at("2024-05-01T10:00:00Z")), at("2024-04-25T00:00:00Z"));
    let b = days(2, "America/New_York");
    let start = b.start_of(at("1969-12-31T12:00:00Z"));
    assert_eq!(start, at("1969-12-30T05:00:00Z"));
    assert_eq!(b.end_of(start), at("1970-01-01T05:00:00Z"));
}

#[test]
fn months_and_years_in_utc_and_in_a_zone() {
    let b = months(1, None);
    let start = b.start_of(at("2024-02-15T08:00:00Z"));
    assert_eq!(start, at("2024-02-01T00:00:00Z"));
    assert_eq!(b.end_of(start), at("2024-03-01T00:00:00Z"));
    assert_eq!(b.start_of(at("1969-12-31T23:59:59Z")), at("1969-12-01T00:00:00Z"));
    let year = months(12, None);
    let start = year.start_of(at("2024-07-04T00:00:00Z"));
    assert_eq!(start, at("2024-01-01T00:00:00Z"));
    assert_eq!(year.end_of(start), at("2025-01-01T00:00:00Z"));
    // 2024-03-01T03:00Z is still 29 February in New York (UTC-5).
    let ny = months(1, Some("America/New_York"));
    let start = ny.start_of(at("2024-03-01T03:00:00Z"));
    assert_eq!(start, at("2024-02-01T05:00:00Z"));
    // March starts in standard time and April in daylight time.
    let march = ny.end_of(start);
    assert_eq!(march, at("2024-03-01T05:00:00Z"));
    assert_eq!(ny.end_of(march), at("2024-04-01T04:00:00Z"));
    let quarter = months(3, None);
    assert_eq!(quarter.start_of(at("2024-05-20T00:00:00Z")), at("2024-04-01T00:00:00Z"));
}

#[test]
fn fixed_buckets_are_unchanged() {
    let b = Bucketing::new(&Bucket::fixed(10, 5)).expect("fixed");
    assert_eq!(b.start_of(4), -5);
    assert_eq!(b.start_of(5), 5);
    assert_eq!(b.end_of(5), 15);
    assert_eq!(b.min_width_ns(), 10);
}

#[test]
fn refuses_what_it_cannot_mean() {
    let err = |b: Bucket| Bucketing::new(&b).expect_err("refused").to_string();
    let unknown = err(Bucket::local_days(DAY_NS, "Mars/Olympus".into()));
    assert!(unknown.contains("\"Mars/Olympus\" is not a time zone"), "{unknown}");
    let hourly = err(Bucket::local_days(3_600_000_000_000, "Europe/Berlin".into()));
    assert!(hourly.contains("must be whole days or months"), "{hourly}");
    let origin = err(Bucket { origin_ns: 7, ..Bucket::months(1, None) });
    assert!(origin.contains("origin applies to fixed-width buckets only"), "{origin}");
    let both = err(Bucket { width_ns: DAY_NS, ..Bucket::months(1, None) });
    assert!(both.contains("not both"), "{both}");
    assert!(err(Bucket::new(0)).contains("must be positive"));
}

#[test]
fn every_bucket_ends_where_the_next_starts() {
    for b in [months(1, Some("Europe/Berlin")), days(1, "America/Santiago"), days(3, "Asia/Kolkata")] {
        let mut start = b.start_of(at("2023-01-01T00:00:00Z"));
        for _ in 0..800 {
            let end = b.end_of(start);
            assert!(end > start, "{b:?}: empty bucket at {start}");
            assert_eq!(b.start_of(end - 1), start, "{b:?}: last instant of the bucket at {start}");
            assert_eq!(b.start_of(end), end, "{b:?}: bucket after {start}");
            assert!(end - start >= b.min_width_ns(), "{b:?}: shorter than the minimum at {start}");
            start = end;
        }
    }
}
