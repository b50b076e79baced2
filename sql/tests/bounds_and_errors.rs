//! Bounds (memory, timeout, concurrency, cancellation) and bad input: each answered with its
//! kind and a message naming what is wrong, the engine unaffected.

mod common;

use std::time::Duration;

use common::{engine, iot_db, query, try_query};
use futures::StreamExt;
use isobar_sql::{AllowAll, SqlEngine, SqlErrorKind, SqlOptions};

#[tokio::test]
async fn a_syntax_error_names_line_and_column() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let err = try_query(&sql, "SELECT series,\n  FROM FROM iot.readings", &AllowAll).await.expect_err("syntax");
    assert_eq!(err.kind(), SqlErrorKind::InvalidArgument);
    // sqlparser reads `FROM` as a column here and stops at the `.` of `iot.readings`.
    assert!(
        err.message().starts_with("syntax error: Expected") && err.message().contains("Line: 2, Column: 16"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_relations_and_columns_are_named() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let err = try_query(&sql, "SELECT * FROM iot.nope", &AllowAll).await.expect_err("relation");
    assert_eq!(err.kind(), SqlErrorKind::NotFound);
    assert!(err.message().contains("iot.nope"), "{err}");
    let err = try_query(&sql, "SELECT speed FROM iot.readings", &AllowAll).await.expect_err("column");
    assert_eq!(err.kind(), SqlErrorKind::NotFound);
    assert!(err.message().contains("speed"), "{err}");
    let err = try_query(&sql, "SELECT * FROM latest('iot.nope')", &AllowAll).await.expect_err("latest");
    assert!(err.message().contains("iot.nope"), "{err}");
}

#[tokio::test]
async fn write_statements_are_refused_as_read_only_and_change_nothing() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let before = query(&sql, "SELECT count(*) FROM iot").await;
    for (statement, verb) in [
        ("INSERT INTO iot.readings (series, ts, velocity) VALUES ('x', now(), 1.0)", "INSERT INTO"),
        ("DELETE FROM iot.readings", "DELETE FROM"),
        ("CREATE TABLE t (a INT)", "CREATE TABLE"),
        ("DROP TABLE iot", "DROP TABLE"),
        ("UPDATE iot.readings SET velocity = 0", "UPDATE"),
        ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
        ("SET datafusion.execution.batch_size = 1", "SET"),
        ("EXPLAIN DELETE FROM iot.readings", "DELETE FROM"),
    ] {
        let err = try_query(&sql, statement, &AllowAll).await.expect_err(statement);
        assert_eq!(err.kind(), SqlErrorKind::InvalidArgument, "{statement}");
        assert!(err.message().starts_with(verb) && err.message().contains("read-only"), "{statement}: {err}");
    }
    assert_eq!(query(&sql, "SELECT count(*) FROM iot").await, before);
    assert_eq!(db.tables().len(), 2);
}

#[tokio::test]
async fn a_query_over_the_memory_limit_names_the_limit() {
    let (_dir, db) = iot_db();
    let sql = SqlEngine::new(db.clone(), SqlOptions { memory_limit_bytes: 16 << 10, ..SqlOptions::default() });
    // A sort of every row with a string key holds far more than 16 KiB.
    let err =
        try_query(&sql, "SELECT * FROM iot ORDER BY \"diag.status\", ts DESC", &AllowAll).await.expect_err("memory");
    assert_eq!(err.kind(), SqlErrorKind::ResourceExhausted);
    assert!(err.message().contains("memory limit of 16384 bytes"), "{err}");
    // The engine and the SQL layer keep working.
    assert!(query(&sql, "SELECT count(*) FROM iot.readings").await.num_rows() == 1);
}

#[tokio::test]
async fn a_query_past_its_timeout_is_stopped() {
    let (_dir, db) = iot_db();
    let sql = SqlEngine::new(db.clone(), SqlOptions { timeout: Duration::from_nanos(1), ..SqlOptions::default() });
    let err = try_query(&sql, "SELECT * FROM iot", &AllowAll).await.expect_err("deadline");
    assert_eq!(err.kind(), SqlErrorKind::DeadlineExceeded);
    assert!(err.message().contains("timeout"), "{err}");
}

#[tokio::test]
async fn the_concurrency_cap_refuses_one_more_and_a_dropped_stream_frees_its_slot() {
    let (_dir, db) = iot_db();
    let sql = SqlEngine::new(db.clone(), SqlOptions { max_concurrent_queries: 1, ..SqlOptions::default() });
    let first = sql.prepare("SELECT * FROM iot", &AllowAll).await.expect("prepare");
    let mut stream = first.execute().await.expect("execute");
    let batch = stream.next().await.expect("a batch").expect("ok");
    assert!(batch.num_rows() > 0);
    let second = sql.prepare("SELECT count(*) FROM iot", &AllowAll).await.expect("prepare");
    let Err(err) = second.execute().await else { panic!("the second query should be refused past the cap") };
    assert_eq!(err.kind(), SqlErrorKind::ResourceExhausted);
    assert!(err.message().contains("max_concurrent_queries"), "{err}");
    drop(stream); // a client that goes away mid-stream
    assert_eq!(query(&sql, "SELECT count(*) FROM iot").await.num_rows(), 1);
}

#[tokio::test]
async fn bad_gap_filling_says_which_shape_works() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let err = try_query(
        &sql,
        "SELECT series, date_bin_gapfill(INTERVAL '1 hour', ts) AS t, avg(temp) FROM weather.obs GROUP BY 1, 2",
        &AllowAll,
    )
    .await
    .expect_err("unbounded");
    assert_eq!(err.kind(), SqlErrorKind::InvalidArgument);
    assert!(err.message().contains("bounded time range"), "{err}");
    let err = try_query(&sql, "SELECT locf(temp) FROM weather.obs", &AllowAll).await.expect_err("no aggregate");
    assert_eq!(err.kind(), SqlErrorKind::InvalidArgument);
    assert!(err.message().contains("date_bin_gapfill"), "{err}");
}
