//! SQL answers equal the engine's native answers (the requests the gRPC Scan, Aggregate and
//! Latest calls make) on generated data with late, duplicate and sparse rows; and the pushed
//! answers equal DataFusion's own over scanned rows.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use common::{HOUR, T0, concat, engine, iot_db, query};
use isobar_query::{AggregateFunction, AggregateQuery, Aggregation, Bucket, LatestQuery};
use isobar_storage::{ScanRequest, SeriesSelector, TimeRange};

fn aggregate(
    db: &isobar_storage::Db,
    function: AggregateFunction,
    column: &str,
    width: i64,
    range: TimeRange,
) -> RecordBatch {
    let mut q = AggregateQuery::new("iot", vec![Aggregation::new(function, column.parse().expect("column"))]);
    q.bucket = Some(Bucket::new(width));
    q.range = range;
    concat(&isobar_query::aggregate(&db.snapshot(), &q).expect("aggregate"))
}

/// Floats equal within a relative 1e-9 (sums in another order differ in the last bits).
fn assert_close(a: &arrow_array::Float64Array, b: &arrow_array::Float64Array) {
    assert_eq!(a.len(), b.len());
    for i in 0..a.len() {
        assert_eq!(a.is_null(i), b.is_null(i), "row {i}");
        let (x, y) = (a.value(i), b.value(i));
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "row {i}: {x} vs {y}");
    }
}

#[tokio::test]
async fn a_filtered_scan_equals_the_native_scans() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(
        &sql,
        "SELECT series, ts, velocity, load FROM iot.readings \
         WHERE series IN ('truck_03', 'truck_01') AND ts >= '2024-01-01T06:00:00Z' AND ts < '2024-01-02T00:00:00Z'",
    )
    .await;
    let range = TimeRange::new(T0 + 6 * HOUR, T0 + 24 * HOUR);
    let mut native = Vec::new();
    for key in ["truck_01", "truck_03"] {
        let req =
            ScanRequest::new("iot").selector(SeriesSelector::Exact(key.into())).range(range).columns(["readings.*"]);
        native.extend(db.scan(&req).expect("scan"));
    }
    let native = concat(&native);
    assert!(native.num_rows() > 0);
    assert_eq!(got.columns(), native.columns());
}

#[tokio::test]
async fn hourly_averages_equal_the_native_aggregate_and_datafusions_own() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(
        &sql,
        "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity) AS v FROM iot.readings \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    let native = aggregate(&db, AggregateFunction::Avg, "readings.velocity", HOUR, TimeRange::ALL);
    assert_eq!(got.num_rows(), native.num_rows());
    assert_eq!(got.column(0), native.column(0));
    assert_eq!(got.column(1), native.column(1));
    assert_close(got.column(2).as_primitive::<Float64Type>(), native.column(2).as_primitive::<Float64Type>());
    // `velocity + 0` is not a column: DataFusion aggregates the scanned rows itself.
    let fallback = query(
        &sql,
        "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity + 0) AS v FROM iot.readings \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    assert_eq!(fallback.column(1), native.column(1));
    assert_close(fallback.column(2).as_primitive::<Float64Type>(), native.column(2).as_primitive::<Float64Type>());
}

#[tokio::test]
async fn daily_max_equals_the_native_aggregate_over_a_time_range() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(
        &sql,
        "SELECT series, time_bucket(INTERVAL '1 day', ts) AS day, max(load) AS m FROM iot.readings \
         WHERE ts >= '2024-01-01T03:00:00Z' GROUP BY series, day ORDER BY series, day",
    )
    .await;
    let native =
        aggregate(&db, AggregateFunction::Max, "readings.load", 24 * HOUR, TimeRange::new(T0 + 3 * HOUR, i64::MAX));
    assert!(native.num_rows() > 0);
    assert_eq!(got.columns(), native.columns());
    let fallback = query(
        &sql,
        "SELECT series, time_bucket(INTERVAL '1 day', ts) AS day, max(load + 0) AS m FROM iot.readings \
         WHERE ts >= '2024-01-01T03:00:00Z' GROUP BY series, day ORDER BY series, day",
    )
    .await;
    assert_eq!(fallback.columns(), native.columns());
}

#[tokio::test]
async fn aggregates_over_the_table_relation_keep_groups_where_only_another_family_has_rows() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    // The diag-only row of each series (an hour before T0) makes a bucket without velocity.
    let pushed = query(
        &sql,
        r#"SELECT series, date_bin(INTERVAL '1 hour', ts) AS h, avg("readings.velocity") AS v, count("diag.fuel") AS n
           FROM iot GROUP BY 1, 2 ORDER BY 1, 2"#,
    )
    .await;
    let fallback = query(
        &sql,
        r#"SELECT series, date_bin(INTERVAL '1 hour', ts) AS h, avg("readings.velocity" + 0) AS v, count("diag.fuel") AS n
           FROM iot GROUP BY 1, 2 ORDER BY 1, 2"#,
    )
    .await;
    assert_eq!(pushed.num_rows(), fallback.num_rows());
    assert_eq!(pushed.column(1), fallback.column(1));
    assert_close(pushed.column(2).as_primitive::<Float64Type>(), fallback.column(2).as_primitive::<Float64Type>());
    assert_eq!(pushed.column(3), fallback.column(3));
    assert!(pushed.column(2).is_null(0), "the first bucket of truck_00 has diag only");
}

#[tokio::test]
async fn latest_per_series_equals_the_native_latest_and_distinct_on() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(&sql, "SELECT series, ts, velocity, load FROM latest('iot.readings') ORDER BY series").await;
    let mut q = LatestQuery::new("iot");
    q.columns = vec!["readings.velocity".parse().expect("col"), "readings.load".parse().expect("col")];
    let native = isobar_query::latest(&db.snapshot(), &q).expect("latest");
    assert_eq!(got.num_rows(), common::SERIES);
    assert_eq!(got.columns(), native.columns());
    let distinct_on = query(
        &sql,
        "SELECT DISTINCT ON (series) series, ts, velocity, load FROM iot.readings ORDER BY series, ts DESC",
    )
    .await;
    assert_eq!(distinct_on.columns(), native.columns());
    // Series filters are pushed; the table relation's newest row is the diag or readings one.
    let one = query(&sql, r#"SELECT series, ts FROM latest('iot') WHERE series = 'truck_02'"#).await;
    let scan =
        concat(&db.scan(&ScanRequest::new("iot").selector(SeriesSelector::Exact("truck_02".into()))).expect("scan"));
    assert_eq!(one.num_rows(), 1);
    assert_eq!(one.column(1).as_ref(), scan.column(1).slice(scan.num_rows() - 1, 1).as_ref());
}

#[tokio::test]
async fn first_and_last_by_time_equal_the_native_ones() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(
        &sql,
        "SELECT series, date_bin(INTERVAL '6 hours', ts) AS t, first_value(temp ORDER BY ts) AS f, \
         last_value(temp ORDER BY ts) AS l FROM weather.obs GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    let mut q = AggregateQuery::new(
        "weather",
        vec![
            Aggregation::new(AggregateFunction::First, "obs.temp".parse().expect("col")),
            Aggregation::new(AggregateFunction::Last, "obs.temp".parse().expect("col")),
        ],
    );
    q.bucket = Some(Bucket::new(6 * HOUR));
    let native = concat(&isobar_query::aggregate(&db.snapshot(), &q).expect("aggregate"));
    assert!(native.num_rows() > 0);
    assert_eq!(got.columns(), native.columns());
}

#[tokio::test]
async fn gap_filling_equals_the_native_fills() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    // Weather has one reading per hour from T0 on; the range starts 4 hours before: empty buckets.
    let range = TimeRange::new(T0 - 4 * HOUR, T0 + 3 * HOUR);
    let where_ = "ts >= '2023-12-31T20:00:00Z' AND ts < '2024-01-01T03:00:00Z'";
    for (wrap, fill) in [
        ("", isobar_query::Fill::Null),
        ("locf", isobar_query::Fill::Previous),
        ("interpolate", isobar_query::Fill::Linear),
    ] {
        let got = query(
            &sql,
            &format!(
                "SELECT series, date_bin_gapfill(INTERVAL '30 minutes', ts) AS t, {wrap}(avg(temp)) AS temp \
                 FROM weather.obs WHERE {where_} GROUP BY series, t ORDER BY series, t"
            ),
        )
        .await;
        let mut q = AggregateQuery::new(
            "weather",
            vec![Aggregation::new(AggregateFunction::Avg, "obs.temp".parse().expect("col"))],
        );
        q.bucket = Some(Bucket::new(HOUR / 2));
        q.range = range;
        q.fill = fill;
        let native = concat(&isobar_query::aggregate(&db.snapshot(), &q).expect("aggregate"));
        assert_eq!(got.num_rows(), common::SERIES * 14, "{wrap}: every half hour of 7 hours per series");
        assert_eq!(got.columns(), native.columns(), "{wrap}");
    }
}
