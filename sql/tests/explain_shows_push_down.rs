//! `EXPLAIN` names every push-down: the engine read (`IsobarExec`) and what it was asked.

mod common;

use common::{engine, explain, iot_db, query};

#[tokio::test]
async fn projection_series_time_and_limit_are_pushed_into_the_scan() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let text = explain(
        &sql,
        "SELECT ts, velocity FROM iot.readings WHERE series = 'truck_01' AND ts >= '2024-01-01T06:00:00Z' \
         AND ts < '2024-01-01T07:00:00Z' LIMIT 5",
    )
    .await;
    assert!(
        text.contains(
            "IsobarExec: scan iot.readings columns=[readings.velocity] series=\"truck_01\" \
             ts=[2024-01-01T06:00:00Z, 2024-01-01T07:00:00Z) limit=5"
        ),
        "{text}"
    );
    assert!(!text.contains("FilterExec"), "every filter was answered by the engine: {text}");
    let text = explain(&sql, "SELECT series FROM iot.diag WHERE series LIKE 'truck%' OR series = 'x'").await;
    assert!(text.contains("FilterExec"), "OR stays with DataFusion: {text}");
    let text = explain(&sql, "SELECT series, fuel FROM iot.diag WHERE series LIKE 'truck%'").await;
    assert!(text.contains("scan iot.diag columns=[diag.fuel] series=prefix(\"truck\")"), "{text}");
    assert!(!text.contains("FilterExec"), "{text}");
    // `_` is a wildcard: the engine reads the literal prefix, DataFusion applies the pattern.
    let text = explain(&sql, "SELECT series, fuel FROM iot.diag WHERE series LIKE 'truck_0%'").await;
    assert!(text.contains("series=prefix(\"truck\")") && text.contains("FilterExec"), "{text}");
    let rows = query(&sql, "SELECT DISTINCT series FROM iot.diag WHERE series LIKE 'truck_0%'").await;
    assert_eq!(rows.num_rows(), common::SERIES);
    let text = explain(&sql, "SELECT count(*) FROM iot WHERE series IN ('b', 'a')").await;
    assert!(text.contains("existence=[readings.velocity, diag.fuel] series=in(a, b)"), "{text}");
}

#[tokio::test]
async fn bucketed_aggregates_are_answered_by_the_engine() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let text = explain(
        &sql,
        "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity), max(load), count(load) \
         FROM iot.readings WHERE ts >= '2024-01-01T06:00:00Z' GROUP BY 1, 2",
    )
    .await;
    assert!(
        text.contains(
            "IsobarExec: aggregate iot.readings functions=[avg(readings.velocity), max(readings.load), \
             count(readings.load)] existence=count(2 columns) group=series bucket=1h ts=[2024-01-01T06:00:00Z, ..)"
        ),
        "{text}"
    );
    assert!(!text.contains("AggregateExec"), "{text}");
    // Not pushable (an expression of a column): DataFusion aggregates scanned rows.
    let text = explain(&sql, "SELECT series, avg(velocity * 2) FROM iot.readings GROUP BY series").await;
    assert!(text.contains("AggregateExec") && text.contains("IsobarExec: scan iot.readings"), "{text}");
}

#[tokio::test]
async fn latest_is_answered_by_the_engines_latest_path() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let text = explain(&sql, "SELECT * FROM latest('iot.readings') WHERE series >= 'truck_03'").await;
    assert!(
        text.contains(
            "IsobarExec: latest iot.readings columns=[readings.velocity, readings.load] series=range(\"truck_03\", ..)"
        ),
        "{text}"
    );
    let rows = query(&sql, "SELECT * FROM latest('iot.readings') WHERE series >= 'truck_03'").await;
    assert_eq!(rows.num_rows(), common::SERIES - 3);
}

#[tokio::test]
async fn gap_filling_is_answered_by_the_engine_with_its_fill() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let text = explain(
        &sql,
        "SELECT series, date_bin_gapfill(INTERVAL '1 hour', ts) AS t, locf(avg(temp)) AS temp FROM weather.obs \
         WHERE ts >= '2023-12-31T20:00:00Z' AND ts < '2024-01-01T04:00:00Z' GROUP BY series, t",
    )
    .await;
    assert!(text.contains("IsobarExec: aggregate weather.obs functions=[avg(obs.temp)]"), "{text}");
    assert!(text.contains("fill=Previous"), "{text}");
}
