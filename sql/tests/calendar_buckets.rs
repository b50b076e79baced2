//! `date_trunc(unit, ts, zone)` and `time_bucket(interval, ts, zone)`: local days across DST
//! changes, months, quarters and years in a zone, answered by the engine (`EXPLAIN` shows its
//! bucket) with the answer DataFusion gets evaluating the functions row by row, and the counts
//! worked out by hand.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use common::{HOUR, engine, explain, query, try_query};
use isobar_sql::{AllowAll, SqlEngine, SqlErrorKind};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, TableSpec};

/// Nanoseconds of an RFC 3339 instant.
fn at(s: &str) -> i64 {
    arrow_cast::parse::string_to_timestamp_nanos(s).expect("instant")
}

/// Table `clock`, family `m` (v f64): series `a` and `b` with a row every whole hour from
/// 2023-12-31T00:00Z up to 2025-01-02T00:00Z (8832 rows each), the first half flushed.
fn clock_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default()).expect("open");
    db.create_table(TableSpec::new("clock").family("m", &[("v", ColumnType::F64)])).expect("create");
    let (start, end) = (at("2023-12-31T00:00:00Z"), at("2025-01-02T00:00:00Z"));
    let ts: Vec<i64> = (start..end).step_by(HOUR as usize).collect();
    assert_eq!(ts.len(), 8832);
    let (first, second) = ts.split_at(ts.len() / 2);
    for (i, part) in [first, second].into_iter().enumerate() {
        for series in ["a", "b"] {
            let values = part.iter().map(|t| (t / HOUR % 100) as f64).collect();
            db.write(SeriesWrite::new("clock", series, part.to_vec()).column("m", "v", ColumnValues::F64(values)))
                .expect("write");
        }
        if i == 0 {
            db.flush().expect("flush");
        }
    }
    (dir, db)
}

/// `(bucket start, count)` rows of a query answering them in its last two columns.
fn counts(batch: &RecordBatch) -> Vec<(i64, i64)> {
    let n = batch.num_columns();
    let starts = batch.column(n - 2).as_primitive::<TimestampNanosecondType>();
    let counts = batch.column(n - 1).as_primitive::<Int64Type>();
    (0..batch.num_rows()).map(|i| (starts.value(i), counts.value(i))).collect()
}

/// Runs `sql` with `count(v)` (pushed down: `EXPLAIN` names `bucket`) and with `count(*)` (which
/// the engine does not answer: DataFusion evaluates the bucket function per row); both answers
/// must be equal. Returns the first.
async fn pushed_and_row_wise(sql: &SqlEngine, template: &str, bucket: &str) -> RecordBatch {
    let pushed = template.replace("{count}", "count(v)");
    let text = explain(sql, &pushed).await;
    assert!(text.contains("IsobarExec: aggregate clock.m") && text.contains(bucket), "{bucket}: {text}");
    assert!(!text.contains("AggregateExec"), "{text}");
    let row_wise = template.replace("{count}", "count(*)");
    let text = explain(sql, &row_wise).await;
    assert!(text.contains("AggregateExec") && text.contains("IsobarExec: scan clock.m"), "{text}");
    let (a, b) = (query(sql, &pushed).await, query(sql, &row_wise).await);
    assert!(a.num_rows() > 0);
    assert_eq!(a.schema().field(a.num_columns() - 2).data_type(), b.schema().field(b.num_columns() - 2).data_type());
    assert_eq!(a.columns(), b.columns(), "{pushed}");
    a
}

#[tokio::test]
async fn berlin_days_last_23_and_25_hours_at_the_dst_changes() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    let range = "series = 'a' AND ts >= '2024-03-29T23:00:00Z' AND ts < '2024-10-28T23:00:00Z'";
    for bucket in ["date_trunc('day', ts, 'Europe/Berlin')", "time_bucket(INTERVAL '1 day', ts, 'Europe/Berlin')"] {
        let got = pushed_and_row_wise(
            &sql,
            &format!("SELECT {bucket} AS d, {{count}} AS n FROM clock.m WHERE {range} GROUP BY d ORDER BY d"),
            "bucket=1d tz=Europe/Berlin",
        )
        .await;
        let got = counts(&got);
        // 2024-03-30 to 2024-10-28, local days.
        assert_eq!(got.len(), 213, "{bucket}");
        assert_eq!(got.first(), Some(&(at("2024-03-30T00:00:00+01:00"), 24)));
        assert_eq!(got.last(), Some(&(at("2024-10-28T00:00:00+01:00"), 24)));
        let odd: Vec<(i64, i64)> = got.iter().copied().filter(|(_, n)| *n != 24).collect();
        assert_eq!(odd, vec![(at("2024-03-31T00:00:00+01:00"), 23), (at("2024-10-27T00:00:00+02:00"), 25)]);
        // Every local day starts at local midnight.
        assert!(got.iter().any(|(d, _)| *d == at("2024-04-01T00:00:00+02:00")));
    }
}

#[tokio::test]
async fn new_york_months_start_on_the_first_at_local_midnight() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    let expected: Vec<(i64, i64)> = [
        ("2023-12-01T00:00:00-05:00", 29),
        ("2024-01-01T00:00:00-05:00", 744),
        ("2024-02-01T00:00:00-05:00", 696),
        ("2024-03-01T00:00:00-05:00", 743),
        ("2024-04-01T00:00:00-04:00", 720),
        ("2024-05-01T00:00:00-04:00", 744),
        ("2024-06-01T00:00:00-04:00", 720),
        ("2024-07-01T00:00:00-04:00", 744),
        ("2024-08-01T00:00:00-04:00", 744),
        ("2024-09-01T00:00:00-04:00", 720),
        ("2024-10-01T00:00:00-04:00", 744),
        ("2024-11-01T00:00:00-04:00", 721),
        ("2024-12-01T00:00:00-05:00", 744),
        ("2025-01-01T00:00:00-05:00", 19),
    ]
    .iter()
    .map(|(t, n)| (at(t), *n))
    .collect();
    for bucket in ["date_trunc('month', ts, 'America/New_York')", "time_bucket('1 month', ts, 'America/New_York')"] {
        let got = pushed_and_row_wise(
            &sql,
            &format!("SELECT series, {bucket} AS m, {{count}} AS n FROM clock.m GROUP BY series, m ORDER BY series, m"),
            "group=series bucket=1mo tz=America/New_York",
        )
        .await;
        let series = got.column(0).as_string::<i32>();
        let all = counts(&got);
        for (key, rows) in [("a", &all[..14]), ("b", &all[14..])] {
            assert_eq!(rows, expected.as_slice(), "{bucket}, series {key}");
        }
        assert!((0..14).all(|i| series.value(i) == "a") && (14..28).all(|i| series.value(i) == "b"));
    }
}

#[tokio::test]
async fn quarters_in_utc_and_in_berlin() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    let cases = [
        (
            "date_trunc('quarter', ts)",
            "bucket=3mo series=",
            [
                ("2023-10-01T00:00:00Z", 24),
                ("2024-01-01T00:00:00Z", 2184),
                ("2024-04-01T00:00:00Z", 2184),
                ("2024-07-01T00:00:00Z", 2208),
                ("2024-10-01T00:00:00Z", 2208),
                ("2025-01-01T00:00:00Z", 24),
            ],
        ),
        (
            "date_trunc('QUARTER', ts, 'Europe/Berlin')",
            "bucket=3mo tz=Europe/Berlin",
            [
                ("2023-10-01T00:00:00+02:00", 23),
                ("2024-01-01T00:00:00+01:00", 2183),
                ("2024-04-01T00:00:00+02:00", 2184),
                ("2024-07-01T00:00:00+02:00", 2208),
                ("2024-10-01T00:00:00+02:00", 2209),
                ("2025-01-01T00:00:00+01:00", 25),
            ],
        ),
    ];
    for (bucket, shown, expected) in cases {
        let got = pushed_and_row_wise(
            &sql,
            &format!(
                "SELECT {bucket} AS q, {{count}} AS n FROM clock.m WHERE series = 'b' AND ts >= '2000-01-01T00:00:00Z' \
                 GROUP BY q ORDER BY q"
            ),
            shown,
        )
        .await;
        let expected: Vec<(i64, i64)> = expected.iter().map(|(t, n)| (at(t), *n)).collect();
        assert_eq!(counts(&got), expected, "{bucket}");
    }
}

#[tokio::test]
async fn years_in_new_york() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    let expected = vec![
        (at("2023-01-01T00:00:00-05:00"), 29),
        (at("2024-01-01T00:00:00-05:00"), 8784),
        (at("2025-01-01T00:00:00-05:00"), 19),
    ];
    for bucket in
        ["time_bucket(INTERVAL '1 year', ts, 'America/New_York')", "date_trunc('year', ts, 'America/New_York')"]
    {
        let got = pushed_and_row_wise(
            &sql,
            &format!("SELECT {bucket} AS y, {{count}} AS n FROM clock.m WHERE series = 'a' GROUP BY y ORDER BY y"),
            "bucket=1y tz=America/New_York",
        )
        .await;
        assert_eq!(counts(&got), expected, "{bucket}");
    }
}

#[tokio::test]
async fn weeks_and_hours_are_pushed_only_where_they_are_fixed_widths() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    // UTC weeks: 7 days from Monday 1970-01-05.
    let got = pushed_and_row_wise(
        &sql,
        "SELECT date_trunc('week', ts) AS w, {count} AS n FROM clock.m WHERE series = 'a' GROUP BY w ORDER BY w",
        "bucket=7d origin=1970-01-05T00:00:00Z",
    )
    .await;
    assert_eq!(counts(&got).first(), Some(&(at("2023-12-25T00:00:00Z"), 24)));
    assert_eq!(counts(&got).get(1), Some(&(at("2024-01-01T00:00:00Z"), 168)));
    // Half-hour zone, bounded range: hours start at half past, UTC.
    let got = pushed_and_row_wise(
        &sql,
        "SELECT date_trunc('hour', ts, 'Asia/Kolkata') AS h, {count} AS n FROM clock.m WHERE series = 'a' \
         AND ts >= '2024-05-01T00:00:00Z' AND ts < '2024-05-02T00:00:00Z' GROUP BY h ORDER BY h",
        "bucket=1h origin=1970-01-01T00:30:00Z",
    )
    .await;
    let got = counts(&got);
    assert_eq!(got.len(), 24);
    assert_eq!(got.first(), Some(&(at("2024-04-30T23:30:00Z"), 1)));
    // Berlin weeks change their length with DST: DataFusion evaluates them, row by row.
    let weeks = "SELECT date_trunc('week', ts, 'Europe/Berlin') AS w, count(v) AS n FROM clock.m WHERE series = 'a' \
                 GROUP BY w ORDER BY w";
    let text = explain(&sql, weeks).await;
    assert!(text.contains("AggregateExec") && !text.contains("IsobarExec: aggregate"), "{text}");
    let got = counts(&query(&sql, weeks).await);
    assert!(got.contains(&(at("2024-03-25T00:00:00+01:00"), 167)), "{got:?}");
    assert!(got.contains(&(at("2024-10-21T00:00:00+02:00"), 169)), "{got:?}");
    assert_eq!(got.iter().map(|(_, n)| n).sum::<i64>(), 8832);
}

#[tokio::test]
async fn the_two_argument_forms_are_unchanged() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    // DataFusion's date_trunc: UTC days.
    let got = pushed_and_row_wise(
        &sql,
        "SELECT date_trunc('day', ts) AS d, {count} AS n FROM clock.m WHERE series = 'a' GROUP BY d ORDER BY d",
        "bucket=1d series=",
    )
    .await;
    assert_eq!(counts(&got).len(), 368);
    assert!(counts(&got).iter().all(|(d, n)| d % (24 * HOUR) == 0 && *n == 24));
    // Grafana's time_bucket('60.000s', ts), date_bin with a month, and an origin written as text.
    let text =
        explain(&sql, "SELECT time_bucket('60.000s', ts) AS t, avg(v) FROM clock.m WHERE series = 'a' GROUP BY 1")
            .await;
    assert!(text.contains("bucket=1m"), "{text}");
    let got = pushed_and_row_wise(
        &sql,
        "SELECT date_bin(INTERVAL '1 month', ts) AS m, {count} AS n FROM clock.m WHERE series = 'a' GROUP BY m ORDER BY m",
        "bucket=1mo series=",
    )
    .await;
    assert_eq!(counts(&got).get(2), Some(&(at("2024-02-01T00:00:00Z"), 696)));
    let got = pushed_and_row_wise(
        &sql,
        "SELECT time_bucket(INTERVAL '1 day', ts, '2024-01-01T12:00:00Z') AS d, {count} AS n FROM clock.m \
         WHERE series = 'a' GROUP BY d ORDER BY d",
        "bucket=1d origin=2024-01-01T12:00:00Z",
    )
    .await;
    assert_eq!(counts(&got).first(), Some(&(at("2023-12-30T12:00:00Z"), 12)));
}

#[tokio::test]
async fn unknown_zones_units_and_sub_day_zoned_buckets_are_refused_by_name() {
    let (_dir, db) = clock_db();
    let sql = engine(&db);
    let refused = [
        ("SELECT date_trunc('day', ts, 'Mars/Olympus') FROM clock.m", "\"Mars/Olympus\" is not a time zone"),
        (
            "SELECT time_bucket(INTERVAL '1 day', ts, 'Mars/Olympus') FROM clock.m",
            "\"Mars/Olympus\" is not a time zone",
        ),
        ("SELECT date_trunc('fortnight', ts, 'UTC') FROM clock.m", "unknown unit 'fortnight'"),
        ("SELECT time_bucket(INTERVAL '1 hour', ts, 'Europe/Berlin') FROM clock.m", "whole days or calendar months"),
        ("SELECT time_bucket(INTERVAL '1 month 2 days', ts, 'Europe/Berlin') FROM clock.m", "'1 months 2 days'"),
    ];
    for (statement, message) in refused {
        // Refused while planning, before anything is read.
        assert!(sql.prepare(statement, &AllowAll).await.is_err(), "{statement}");
        let err = try_query(&sql, statement, &AllowAll).await.expect_err(statement);
        assert_eq!(err.kind(), SqlErrorKind::InvalidArgument, "{statement}: {err}");
        assert!(err.message().contains(message), "{statement}: {err}");
    }
    let err =
        try_query(&sql, "SELECT date_trunc('fortnight', ts, 'UTC') FROM clock.m", &AllowAll).await.expect_err("unit");
    assert!(err.message().contains("accepted: microsecond, millisecond, second, minute, hour, day, week"), "{err}");
    let err = try_query(&sql, "SELECT date_trunc('day', ts, 'Mars/Olympus') FROM clock.m", &AllowAll)
        .await
        .expect_err("zone");
    assert!(err.message().contains("IANA name") && err.message().contains("offset"), "{err}");
    // A NULL zone is a NULL bucket, as in PostgreSQL.
    let got = query(&sql, "SELECT date_trunc('day', ts, NULL) AS d FROM clock.m LIMIT 1").await;
    assert!(got.column(0).is_null(0));
}
