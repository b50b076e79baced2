//! Aggregate behaviour on fixed data: errors name what is wrong, fill modes, push-down is used
//! on flushed data and answers like decoding, grouping across series.

mod common;

use common::{V, rows};
use isobar_query::{
    AggregateFunction as F, AggregateQuery, Aggregation, Bucket, Fill, GroupBy, aggregate, aggregate_with_stats,
};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Options, SeriesSelector, SeriesWrite, SyncPolicy, TableSpec, TimeRange,
};

const MIN: i64 = 60_000_000_000;

fn db(dir: &std::path::Path) -> Db {
    let db = Db::open(dir, Options { sync: SyncPolicy::None, rows_per_page: 32, ..Options::default() }).unwrap();
    db.create_table(
        TableSpec::new("w")
            .family("obs", &[("temp", ColumnType::F64), ("n", ColumnType::I64), ("note", ColumnType::String)]),
    )
    .unwrap();
    db
}

fn q(aggs: Vec<Aggregation>) -> AggregateQuery {
    AggregateQuery::new("w", aggs)
}

#[test]
fn impossible_queries_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let snap = db.snapshot();
    let msg = |q: AggregateQuery| aggregate(&snap, &q).unwrap_err().to_string();
    assert_eq!(
        msg(q(vec![Aggregation::new(F::Avg, "obs.tmp".parse().unwrap())])),
        "table \"w\" family \"obs\" has no column \"tmp\" (it has: temp, n, note)"
    );
    assert_eq!(
        msg(q(vec![Aggregation::new(F::Sum, "obs.note".parse().unwrap())])),
        "sum needs a numeric column but obs.note is string"
    );
    let bucket = |width_ns| AggregateQuery {
        bucket: Some(Bucket::new(width_ns)),
        ..q(vec![Aggregation::new(F::Count, "obs.n".parse().unwrap())])
    };
    assert_eq!(msg(bucket(0)), "bucket width must be positive, got 0 ns");
    assert_eq!(msg(bucket(-5)), "bucket width must be positive, got -5 ns");
    let inverted = AggregateQuery {
        range: TimeRange::new(10, 10),
        ..q(vec![Aggregation::new(F::Count, "obs.n".parse().unwrap())])
    };
    assert_eq!(msg(inverted), "empty time range: from 10 must be before to 10 (nanoseconds since the epoch)");
    let unbounded = AggregateQuery { fill: Fill::Linear, ..bucket(MIN) };
    assert!(msg(unbounded).starts_with("fill linear needs a time range with both from and to set"));
    assert!(msg(q(vec![])).starts_with("the query has no aggregations"));
    assert!(msg(q(vec![Aggregation::new(F::Avg, "obs.*".parse().unwrap())])).contains("names a whole family"));
    assert!(
        msg(AggregateQuery { table: "nope".into(), ..q(vec![Aggregation::new(F::Avg, "obs.n".parse().unwrap())]) })
            .contains("nope")
    );
    let twice =
        q(vec![Aggregation::new(F::Avg, "obs.n".parse().unwrap()), Aggregation::new(F::Avg, "obs.n".parse().unwrap())]);
    assert_eq!(msg(twice), "two aggregations are named \"avg(obs.n)\"; give one an alias");
}

#[test]
fn empty_buckets_are_filled_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    // Minutes 0 and 3 have data; 1, 2 and 4 are empty.
    db.write(SeriesWrite::new("w", "a", vec![0, 3 * MIN]).column("obs", "temp", ColumnValues::F64(vec![1.0, 4.0])))
        .unwrap();
    let run = |fill| {
        let query = AggregateQuery {
            bucket: Some(Bucket::new(MIN)),
            range: TimeRange::new(0, 5 * MIN),
            fill,
            ..q(vec![
                Aggregation::new(F::Max, "obs.temp".parse().unwrap()),
                Aggregation::new(F::Count, "obs.temp".parse().unwrap()),
            ])
        };
        rows(&aggregate(&db.snapshot(), &query).unwrap())
            .into_iter()
            .map(|r| (r[2].clone(), r[3].clone()))
            .collect::<Vec<_>>()
    };
    let (f, i) = (V::f, V::I);
    assert_eq!(run(Fill::None), [(f(1.0), i(1)), (f(4.0), i(1))]);
    assert_eq!(run(Fill::Null), [(f(1.0), i(1)), (V::N, i(0)), (V::N, i(0)), (f(4.0), i(1)), (V::N, i(0))]);
    assert_eq!(run(Fill::Previous), [(f(1.0), i(1)), (f(1.0), i(0)), (f(1.0), i(0)), (f(4.0), i(1)), (f(4.0), i(0))]);
    assert_eq!(run(Fill::Linear), [(f(1.0), i(1)), (f(2.0), i(0)), (f(3.0), i(0)), (f(4.0), i(1)), (V::N, i(0))]);
}

#[test]
fn push_down_answers_flushed_chunks_from_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    for s in 0..3 {
        let ts: Vec<i64> = (0..600).map(|i| i * MIN / 10).collect(); // every 6 s for an hour
        let temp: Vec<f64> = (0..600).map(|i| f64::from(i % 17) * 0.5 - f64::from(s)).collect();
        let n: Vec<i64> = (0..600).map(|i| i * 1_000_003 - 7).collect();
        db.write(SeriesWrite::new("w", format!("s{s}"), ts).column("obs", "temp", ColumnValues::F64(temp)).column(
            "obs",
            "n",
            ColumnValues::I64(n),
        ))
        .unwrap();
    }
    db.flush().unwrap();
    // An overwrite and a delete that make some chunks non-exclusive.
    db.write(SeriesWrite::new("w", "s1", vec![5 * MIN]).column("obs", "temp", ColumnValues::F64(vec![100.0]))).unwrap();
    db.delete("w", None, SeriesSelector::Exact("s2".into()), TimeRange::new(20 * MIN, 21 * MIN)).unwrap();
    for group_by in [GroupBy::Series, GroupBy::None] {
        let query = AggregateQuery {
            bucket: Some(Bucket::new(10 * MIN)),
            group_by,
            ..q([F::Count, F::Sum, F::Min, F::Max, F::Avg]
                .iter()
                .flat_map(|f| {
                    [Aggregation::new(*f, "obs.temp".parse().unwrap()), Aggregation::new(*f, "obs.n".parse().unwrap())]
                })
                .collect())
        };
        let (pushed, stats) = aggregate_with_stats(&db.snapshot(), &query).unwrap();
        let (decoded, none) =
            aggregate_with_stats(&db.snapshot(), &AggregateQuery { push_down: false, ..query.clone() }).unwrap();
        assert!(stats.chunks_from_stats > 10, "{stats:?}");
        assert!(stats.rows_decoded > 0, "the overwritten and deleted spans are decoded: {stats:?}");
        assert_eq!(none.chunks_from_stats, 0);
        assert_eq!(rows(&pushed), rows(&decoded), "{group_by:?}");
        let expected_rows = if group_by == GroupBy::Series { 18 } else { 6 };
        assert_eq!(pushed.iter().map(|b| b.num_rows()).sum::<usize>(), expected_rows);
    }
}

/// The answer's schema does not depend on the grouping: across series the `series` column is
/// still there, nullable and null in every row (as the proto's `GROUP_BY_NONE` says).
#[test]
fn grouping_across_series_keeps_a_null_series_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    for s in ["a", "b"] {
        db.write(SeriesWrite::new("w", s, vec![0, MIN]).column("obs", "temp", ColumnValues::F64(vec![1.0, 2.0])))
            .unwrap();
    }
    for group_by in [GroupBy::Series, GroupBy::None] {
        let query = AggregateQuery {
            bucket: Some(Bucket::new(MIN)),
            group_by,
            ..q(vec![Aggregation::new(F::Sum, "obs.temp".parse().unwrap())])
        };
        let batches = aggregate(&db.snapshot(), &query).unwrap();
        let schema = batches[0].schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["series", "ts", "sum(obs.temp)"], "{group_by:?}");
        let got = rows(&batches);
        if group_by == GroupBy::None {
            assert!(schema.field(0).is_nullable());
            assert_eq!(got, [vec![V::N, V::I(0), V::f(2.0)], vec![V::N, V::I(MIN), V::f(4.0)]]);
        } else {
            assert_eq!(got.len(), 4);
            assert!(got.iter().all(|r| matches!(&r[0], V::S(_))));
        }
    }
}

/// Without buckets the one bucket is labelled `from` when the range has one, else the earliest
/// time at which an aggregated column has a value: a row holding only other columns (of the
/// same family or another) does not move the label. The same in memtables and after a flush,
/// with and without push-down, per series and across series.
#[test]
fn whole_range_bucket_is_labelled_by_the_first_aggregated_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    db.create_table(
        TableSpec::new("w")
            .family("obs", &[("temp", ColumnType::F64), ("n", ColumnType::I64)])
            .family("meta", &[("note", ColumnType::String)]),
    )
    .unwrap();
    // Series a: a note at 10, n alone at 100, then temp at 200 and 300.
    db.write(SeriesWrite::new("w", "a", vec![10]).column("meta", "note", ColumnValues::String(vec!["x".into()])))
        .unwrap();
    db.write(
        SeriesWrite::new("w", "a", vec![100, 200, 300])
            .sparse_column("obs", "temp", ColumnValues::F64(vec![0.0, 1.0, 3.0]), vec![false, true, true])
            .column("obs", "n", ColumnValues::I64(vec![5, 6, 7])),
    )
    .unwrap();
    // Series b: temp from 150.
    db.write(SeriesWrite::new("w", "b", vec![150]).column("obs", "temp", ColumnValues::F64(vec![2.0]))).unwrap();
    let query = |group_by, push_down, range| AggregateQuery {
        group_by,
        push_down,
        range,
        ..q(vec![Aggregation::new(F::Avg, "obs.temp".parse().unwrap())])
    };
    for flushed in [false, true] {
        if flushed {
            db.flush().unwrap();
        }
        for push_down in [true, false] {
            let got = rows(&aggregate(&db.snapshot(), &query(GroupBy::Series, push_down, TimeRange::ALL)).unwrap());
            let want = [vec![V::S("a".into()), V::I(200), V::f(2.0)], vec![V::S("b".into()), V::I(150), V::f(2.0)]];
            assert_eq!(got, want, "flushed {flushed}, push-down {push_down}");
            let across = rows(&aggregate(&db.snapshot(), &query(GroupBy::None, push_down, TimeRange::ALL)).unwrap());
            assert_eq!(across, [vec![V::N, V::I(150), V::f(2.0)]], "flushed {flushed}, push-down {push_down}");
            let from =
                rows(&aggregate(&db.snapshot(), &query(GroupBy::None, push_down, TimeRange::new(5, 1000))).unwrap());
            assert_eq!(from, [vec![V::N, V::I(5), V::f(2.0)]], "`from` labels a bounded range");
        }
    }
}

/// The NaN and infinity rules of the proto's `AggregateFunction` comments: `min`/`max` ignore
/// NaN (NaN only when every value is NaN), `sum`/`avg` propagate it, `stddev` is NaN with any NaN
/// or infinity. The same from statistics (after a flush) as from decoded values.
#[test]
fn nan_and_infinity_follow_the_documented_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let write = |series: &str, values: Vec<f64>| {
        let ts = (0..values.len() as i64).collect();
        db.write(SeriesWrite::new("w", series, ts).column("obs", "temp", ColumnValues::F64(values))).unwrap();
    };
    write("with_nan", vec![1.0, f64::NAN, 3.0]);
    write("all_nan", vec![f64::NAN, f64::NAN]);
    write("with_inf", vec![1.0, f64::INFINITY]);
    let fns = [F::Min, F::Max, F::Sum, F::Avg, F::Stddev];
    let query = |push_down| AggregateQuery {
        push_down,
        ..q(fns.iter().map(|f| Aggregation::new(*f, "obs.temp".parse().unwrap())).collect())
    };
    let nan = |v: &V| v.as_f64().is_some_and(f64::is_nan);
    for flushed in [false, true] {
        if flushed {
            db.flush().unwrap();
        }
        for push_down in [true, false] {
            let got = rows(&aggregate(&db.snapshot(), &query(push_down)).unwrap());
            let row = |s: &str| got.iter().find(|r| r[0] == V::S(s.into())).unwrap().clone();
            let ctx = format!("flushed {flushed}, push-down {push_down}");
            let with_nan = row("with_nan");
            assert_eq!((&with_nan[2], &with_nan[3]), (&V::f(1.0), &V::f(3.0)), "min/max ignore NaN, {ctx}");
            assert!(nan(&with_nan[4]) && nan(&with_nan[5]) && nan(&with_nan[6]), "sum/avg/stddev: {with_nan:?}, {ctx}");
            let all_nan = row("all_nan");
            assert!(all_nan[2..].iter().all(nan), "every value NaN: every answer NaN: {all_nan:?}, {ctx}");
            let with_inf = row("with_inf");
            assert_eq!(with_inf[2..6], [V::f(1.0), V::f(f64::INFINITY), V::f(f64::INFINITY), V::f(f64::INFINITY)]);
            assert!(nan(&with_inf[6]), "stddev with an infinity is NaN: {with_inf:?}, {ctx}");
        }
    }
}

/// Month, year and local-day buckets in a zone with DST count the hours each local period
/// really has (March 2024 in Berlin has 743, October 745; 31 March 23 and 27 October 25), the
/// same from statistics after a flush as from decoded rows.
#[test]
fn calendar_buckets_follow_the_local_calendar() {
    const HOUR: i64 = 60 * MIN;
    let at = |s: &str| i64::try_from(s.parse::<jiff::Timestamp>().unwrap().as_nanosecond()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let (from, to) = (at("2023-12-01T00:00:00Z"), at("2025-02-01T00:00:00Z"));
    let ts: Vec<i64> = (from..to).step_by(HOUR as usize).collect();
    let n = vec![1i64; ts.len()];
    db.write(SeriesWrite::new("w", "a", ts).column("obs", "n", ColumnValues::I64(n))).unwrap();
    let count = |bucket: Bucket, from: &str, to: &str, push_down: bool| {
        let query = AggregateQuery {
            bucket: Some(bucket),
            range: TimeRange::new(at(from), at(to)),
            push_down,
            ..q(vec![Aggregation::new(F::Count, "obs.n".parse().unwrap())])
        };
        rows(&aggregate(&db.snapshot(), &query).unwrap())
    };
    let berlin = || Some("Europe/Berlin".to_owned());
    for flushed in [false, true] {
        if flushed {
            db.flush().unwrap();
        }
        for push_down in [true, false] {
            let ctx = format!("flushed {flushed}, push-down {push_down}");
            let months = count(Bucket::months(1, berlin()), "2024-01-31T23:00:00Z", "2024-11-30T23:00:00Z", push_down);
            let hours: Vec<V> = months.iter().map(|r| r[2].clone()).collect();
            let want = [696, 743, 720, 744, 720, 744, 744, 720, 745, 720].map(V::I);
            assert_eq!(hours, want, "{ctx}");
            assert_eq!(months[1][1], V::I(at("2024-02-29T23:00:00Z")), "March starts at local midnight: {ctx}");
            assert_eq!(months[8][1], V::I(at("2024-09-30T22:00:00Z")), "October starts in summer time: {ctx}");
            assert_eq!(months[9][1], V::I(at("2024-10-31T23:00:00Z")), "November in winter time: {ctx}");
            let year = count(Bucket::months(12, None), "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", push_down);
            assert_eq!(year, [vec![V::S("a".into()), V::I(at("2024-01-01T00:00:00Z")), V::I(8784)]], "{ctx}");
            let day = 86_400_000_000_000;
            let spring = count(
                Bucket::local_days(day, "Europe/Berlin".into()),
                "2024-03-30T23:00:00Z",
                "2024-03-31T22:00:00Z",
                push_down,
            );
            assert_eq!(spring.iter().map(|r| r[2].clone()).collect::<Vec<_>>(), [V::I(23)], "{ctx}");
            let autumn = count(
                Bucket::local_days(day, "Europe/Berlin".into()),
                "2024-10-26T22:00:00Z",
                "2024-10-28T23:00:00Z",
                push_down,
            );
            assert_eq!(autumn.iter().map(|r| r[2].clone()).collect::<Vec<_>>(), [V::I(25), V::I(24)], "{ctx}");
        }
    }
}
