//! Shared by the SQL integration tests: a database with generated IoT data (late, duplicate and
//! sparse rows, part flushed to SSTables, part in memtables) and helpers to run SQL.

#![allow(dead_code)]

use arrow_array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use futures::TryStreamExt;
use isobar_sql::{AllowAll, SqlEngine, SqlError, SqlOptions, TableAccess};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, TableSpec};

/// One hour in nanoseconds.
pub const HOUR: i64 = 3_600_000_000_000;
/// Start of the generated data: 2024-01-01T00:00:00Z.
pub const T0: i64 = 1_704_067_200_000_000_000;
/// Rows per series in the first write.
pub const ROWS: i64 = 600;
/// Step between rows: 5 minutes.
pub const STEP: i64 = 300_000_000_000;
/// Series of the table.
pub const SERIES: usize = 6;

/// A database with table `iot`: family `readings` (velocity f64, load i64) and family `diag`
/// (fuel f64, status string, written on every third row only), `SERIES` trucks over two days
/// and some; then, after a flush, late rows (older timestamps), duplicates of existing rows with
/// new values (last write wins) and a table `weather` (one family `obs`, temp f64).
pub fn iot_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default()).expect("open");
    db.create_table(
        TableSpec::new("iot")
            .family("readings", &[("velocity", ColumnType::F64), ("load", ColumnType::I64)])
            .family("diag", &[("fuel", ColumnType::F64), ("status", ColumnType::String)]),
    )
    .expect("create iot");
    db.create_table(TableSpec::new("weather").family("obs", &[("temp", ColumnType::F64)])).expect("create weather");
    for s in 0..SERIES {
        let ts: Vec<i64> = (0..ROWS).map(|i| T0 + i * STEP + s as i64).collect();
        let velocity: Vec<f64> = (0..ROWS).map(|i| ((i * 7 + s as i64 * 13) % 97) as f64 / 3.0).collect();
        let load: Vec<i64> = (0..ROWS).map(|i| (i * 31 + s as i64) % 1000).collect();
        db.write(
            SeriesWrite::new("iot", series(s), ts.clone())
                .column("readings", "velocity", ColumnValues::F64(velocity))
                .column("readings", "load", ColumnValues::I64(load)),
        )
        .expect("write readings");
        let diag_ts: Vec<i64> = ts.iter().copied().step_by(3).collect();
        let n = diag_ts.len();
        db.write(
            SeriesWrite::new("iot", series(s), diag_ts)
                .column("diag", "fuel", ColumnValues::F64((0..n).map(|i| 100.0 - i as f64 * 0.1).collect()))
                .column("diag", "status", ColumnValues::String((0..n).map(|i| format!("ok{}", i % 4)).collect())),
        )
        .expect("write diag");
        db.write(SeriesWrite::new("weather", format!("station={s}"), ts.iter().copied().step_by(12).collect()).column(
            "obs",
            "temp",
            ColumnValues::F64((0..ROWS / 12).map(|i| i as f64 - 20.0).collect()),
        ))
        .expect("write weather");
    }
    db.flush().expect("flush");
    for s in 0..SERIES {
        // Late rows: between existing ones, hours in the past; a diag-only row too.
        let late: Vec<i64> = (0..20).map(|i| T0 + i * 7 * STEP + STEP / 2).collect();
        db.write(SeriesWrite::new("iot", series(s), late.clone()).column(
            "readings",
            "velocity",
            ColumnValues::F64(late.iter().map(|t| (t % 1000) as f64).collect()),
        ))
        .expect("write late");
        db.write(
            SeriesWrite::new("iot", series(s), vec![T0 - HOUR])
                .column("diag", "fuel", ColumnValues::F64(vec![55.5]))
                .column("diag", "status", ColumnValues::String(vec!["early".into()])),
        )
        .expect("write diag-only");
        // Duplicates: the same (series, ts) again with new values.
        let dup: Vec<i64> = (0..30).map(|i| T0 + i * 11 * STEP + s as i64).collect();
        db.write(
            SeriesWrite::new("iot", series(s), dup.clone())
                .column("readings", "velocity", ColumnValues::F64(dup.iter().map(|_| 1234.5).collect()))
                .column("readings", "load", ColumnValues::I64(dup.iter().map(|_| -7).collect())),
        )
        .expect("write duplicates");
    }
    (dir, db)
}

/// The key of series `s`.
pub fn series(s: usize) -> String {
    format!("truck_{s:02}")
}

/// The SQL layer over `db` with default options.
pub fn engine(db: &Db) -> SqlEngine {
    SqlEngine::new(db.clone(), SqlOptions::default())
}

/// Runs `sql` with every table readable and returns its output as one batch.
pub async fn query(engine: &SqlEngine, sql: &str) -> RecordBatch {
    try_query(engine, sql, &AllowAll).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql` as `access` and returns its output as one batch, or the error.
pub async fn try_query(engine: &SqlEngine, sql: &str, access: &dyn TableAccess) -> Result<RecordBatch, SqlError> {
    let plan = engine.prepare(sql, access).await?;
    let schema = plan.schema();
    let batches: Vec<RecordBatch> = plan.execute().await?.try_collect().await.map_err(SqlError::from_datafusion)?;
    Ok(concat_batches(&schema, &batches).expect("concat"))
}

/// Concatenates engine batches.
pub fn concat(batches: &[RecordBatch]) -> RecordBatch {
    let schema = batches.first().expect("at least one batch").schema();
    concat_batches(&schema, batches).expect("concat")
}

/// `EXPLAIN` text of `sql`.
pub async fn explain(engine: &SqlEngine, sql: &str) -> String {
    engine.prepare(sql, &AllowAll).await.unwrap_or_else(|e| panic!("{sql}: {e}")).explain().await.expect("explain")
}
