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
