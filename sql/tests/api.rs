//! The public API end to end: prepare, schema, parameters, execute, relations, errors.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use common::{HOUR, T0, concat, engine, iot_db, query, try_query};
use datafusion::scalar::ScalarValue;
use isobar_sql::{AllowAll, SqlErrorKind, TableAccess};
use isobar_storage::ScanRequest;

#[tokio::test]
async fn the_table_relation_equals_a_native_scan_of_every_family() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(&sql, "SELECT * FROM public.iot ORDER BY series, ts").await;
    let native = concat(&db.scan(&ScanRequest::new("iot")).expect("scan"));
    assert_eq!(got.num_rows(), native.num_rows());
    assert_eq!(got.columns(), native.columns());
    let schema = got.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["series", "ts", "readings.velocity", "readings.load", "diag.fuel", "diag.status"]);
}

#[tokio::test]
async fn a_family_relation_has_rows_only_where_the_family_has_cells() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(&sql, "SELECT series, ts, fuel, status FROM iot.diag").await;
    let native = concat(&db.scan(&ScanRequest::new("iot").columns(["diag.*"])).expect("scan"));
    assert_eq!(got.columns(), native.columns());
    // A projection of one family still counts the rows of every family in the table relation.
    let count = query(&sql, r#"SELECT count(*) AS n FROM iot WHERE "readings.velocity" IS NULL"#).await;
    let n = count.column(0).as_primitive::<arrow_array::types::Int64Type>().value(0);
    assert_eq!(n, common::SERIES as i64, "one diag-only row per series has no readings");
}

#[tokio::test]
async fn the_issue_example_answers_hourly_averages() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let got = query(
        &sql,
        "SELECT series, date_bin(INTERVAL '1 hour', ts) AS hour, avg(velocity) AS v FROM iot.readings \
         WHERE ts >= '2024-01-01T06:00:00Z' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await;
    assert!(got.num_rows() > 0);
    let hours = got.column(1).as_primitive::<arrow_array::types::TimestampNanosecondType>();
    assert!(hours.values().iter().all(|h| *h >= T0 + 6 * HOUR && h % HOUR == 0));
    assert!(got.column(2).as_primitive::<Float64Type>().values().iter().all(|v| v.is_finite()));
}

#[tokio::test]
async fn parameters_are_typed_and_bound() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let plan = sql
        .prepare("SELECT count(*) AS n FROM iot.readings WHERE series = $1 AND velocity > $2", &AllowAll)
        .await
        .expect("prepare");
    assert_eq!(plan.parameter_types(), [arrow_schema::DataType::Utf8, arrow_schema::DataType::Float64]);
    let bound = plan.bind(vec![ScalarValue::from("truck_01"), ScalarValue::from(10.0)]).expect("bind");
    let batches: Vec<_> =
        futures::TryStreamExt::try_collect(bound.execute().await.expect("execute")).await.expect("rows");
    let n = concat(&batches).column(0).as_primitive::<arrow_array::types::Int64Type>().value(0);
    assert!(n > 0);
    let plan = sql.prepare("SELECT * FROM iot.readings WHERE series = $1", &AllowAll).await.expect("prepare");
    let err = plan.bind(vec![]).expect_err("missing parameter");
    assert_eq!(err.kind(), SqlErrorKind::InvalidArgument);
}

struct Only(&'static str);

impl TableAccess for Only {
    fn can_read(&self, table: &str) -> bool {
        table == self.0
    }
}

#[tokio::test]
async fn relations_list_only_readable_tables_with_their_families() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let names: Vec<String> =
        sql.relations(&AllowAll).iter().map(|r| format!("{}.{}.{}", r.catalog, r.schema, r.name)).collect();
    assert_eq!(
        names,
        ["isobar.public.iot", "isobar.iot.readings", "isobar.iot.diag", "isobar.public.weather", "isobar.weather.obs"]
    );
    let names: Vec<String> =
        sql.relations(&Only("weather")).iter().map(|r| format!("{}.{}", r.schema, r.name)).collect();
    assert_eq!(names, ["public.weather", "weather.obs"]);
}

#[tokio::test]
async fn an_unreadable_table_in_a_join_is_denied_by_name() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let err = try_query(&sql, "SELECT * FROM weather.obs o JOIN iot.readings r ON o.ts = r.ts", &Only("weather"))
        .await
        .expect_err("denied");
    assert_eq!(err.kind(), SqlErrorKind::PermissionDenied);
    assert!(err.message().contains("\"iot\""), "{err}");
    // A table that does not exist is denied the same way: no catalog answer leaks.
    let err = try_query(&sql, "SELECT * FROM nope", &Only("weather")).await.expect_err("denied");
    assert_eq!(err.kind(), SqlErrorKind::PermissionDenied);
    // information_schema lists only what may be read.
    let tables = try_query(&sql, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'isobar' AND table_schema <> 'information_schema' ORDER BY 1, 2", &Only("weather")).await.expect("listing");
    let names: Vec<String> = (0..tables.num_rows())
        .map(|i| {
            format!("{}.{}", tables.column(0).as_string::<i32>().value(i), tables.column(1).as_string::<i32>().value(i))
        })
        .collect();
    assert_eq!(names, ["public.weather", "weather.obs"]);
}

#[tokio::test]
async fn tables_created_and_dropped_are_seen_by_the_next_statement() {
    let (_dir, db) = iot_db();
    let sql = engine(&db);
    let err = try_query(&sql, "SELECT * FROM fresh", &AllowAll).await.expect_err("missing");
    assert_eq!(err.kind(), SqlErrorKind::NotFound);
    assert!(err.message().contains("fresh"), "{err}");
    db.create_table(isobar_storage::TableSpec::new("fresh").family("f", &[("x", isobar_storage::ColumnType::I64)]))
        .expect("create");
    assert_eq!(query(&sql, "SELECT * FROM fresh").await.num_rows(), 0);
    db.drop_table("weather").expect("drop");
    let err = try_query(&sql, "SELECT * FROM weather.obs", &AllowAll).await.expect_err("dropped");
    assert_eq!(err.kind(), SqlErrorKind::NotFound);
}
