//! Explicit nulls make rows whose every value is null. The engine's aggregates see values only,
//! so a family holding explicit nulls is aggregated by DataFusion, and the answers keep such rows:
//! a group of null rows counts 0 (it is not dropped), and `last_value` of a one-column family is
//! the null of the last row. A family without explicit nulls is still pushed down.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use common::{engine, explain, query};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, SyncPolicy, TableSpec};

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).expect("open");
    db.create_table(TableSpec::new("t").family("m", &[("x", ColumnType::F64)])).expect("table");
    (dir, db)
}

fn value(series: &str, ts: i64, x: f64) -> SeriesWrite {
    SeriesWrite::new("t", series, vec![ts]).column("m", "x", ColumnValues::F64(vec![x]))
}

fn null(series: &str, ts: i64) -> SeriesWrite {
    SeriesWrite::new("t", series, vec![ts]).column_with_nulls(
        "m",
        "x",
        ColumnValues::F64(vec![0.0]),
        vec![false],
        vec![true],
    )
}

#[tokio::test]
async fn groups_of_null_rows_are_kept_and_last_value_is_the_last_null() {
    let (_dir, db) = db();
    let sql = engine(&db);
    db.write(value("a", 1_000, 1.0)).expect("write");
    db.write(value("b", 1_000, 2.0)).expect("write");
    let count = "SELECT series, count(x) AS n FROM t.m GROUP BY series ORDER BY series";
    let last = "SELECT series, last_value(x ORDER BY ts) AS l FROM t.m GROUP BY series ORDER BY series";
    assert!(explain(&sql, count).await.contains("IsobarExec: aggregate"), "no explicit null yet: pushed down");

    db.flush().expect("flush");
    db.write(null("a", 1_000)).expect("null over a's only value");
    db.write(null("b", 2_000)).expect("a later null row of b");
    let text = explain(&sql, count).await;
    assert!(text.contains("AggregateExec") && !text.contains("IsobarExec: aggregate"), "{text}");

    let got: RecordBatch = query(&sql, count).await;
    let series: Vec<&str> = got.column(0).as_string::<i32>().iter().map(|s| s.expect("series")).collect();
    let n: Vec<i64> = got.column(1).as_primitive::<Int64Type>().values().to_vec();
    assert_eq!((series, n), (vec!["a", "b"], vec![0, 1]), "a's group has a row and no value");

    let got = query(&sql, last).await;
    let l = got.column(1).as_primitive::<Float64Type>();
    assert_eq!((l.len(), l.is_null(0), l.is_null(1)), (2, true, true), "the last rows hold nulls");
}
