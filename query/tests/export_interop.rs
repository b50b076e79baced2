//! Reads an export with DuckDB and pyarrow (scripts/interop/export_check.py) and checks row
//! counts, types, partitions and aggregates against the numbers computed here.
//!
//! The Python comes from `$ISOBAR_TEST_PYTHON` (set by scripts/test.sh), else
//! `<workspace>/.venv/bin/python`; without either the test fails and says how to set it up.

use std::path::PathBuf;
use std::process::Command;

use isobar_query::{ExportQuery, export};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, SyncPolicy, TableSpec};

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ISOBAR_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = root.join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the interoperability test: ISOBAR_TEST_PYTHON is unset and {} is missing; \
         run `bash scripts/test.sh` (it creates .venv with duckdb and pyarrow)",
        venv.display()
    );
    venv
}

#[test]
fn duckdb_and_pyarrow_read_the_export() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("weather").family("obs", &[("temp", ColumnType::F64), ("count", ColumnType::I64)]))
        .unwrap();
    let t0 = 1_704_067_200_000_000_000i64; // 2024-01-01
    let minute = 60_000_000_000i64;
    let (mut rows, mut sum_temp, mut max_count) = (0u64, 0f64, i64::MIN);
    for s in 0..4 {
        let ts: Vec<i64> = (0..3000).map(|i| t0 + i * minute).collect(); // a bit over two days
        let temp: Vec<f64> = (0..3000).map(|i| f64::from(i % 100) * 0.25 - f64::from(s)).collect();
        let count: Vec<i64> = (0..3000).map(|i| i * 3 + s64(s)).collect();
        rows += ts.len() as u64;
        sum_temp += temp.iter().sum::<f64>();
        max_count = max_count.max(*count.iter().max().unwrap());
        db.write(
            SeriesWrite::new("weather", format!("station_{s}"), ts)
                .column("obs", "temp", ColumnValues::F64(temp))
                .column("obs", "count", ColumnValues::I64(count)),
        )
        .unwrap();
    }
    db.flush().unwrap();
    let dest = dir.path().join("export");
    let summary = export(&db, &ExportQuery::new("weather"), &dest, &mut |_| {}).unwrap();
    assert_eq!(summary.rows, rows);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/interop/export_check.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&dest)
        .arg(rows.to_string())
        .arg(format!("{sum_temp}"))
        .arg(max_count.to_string())
        .arg("2024-01-01,2024-01-02,2024-01-03")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "export_check.py failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("export_check: ok (12000 rows, 3 partitions)"), "{stdout}");
}

fn s64(s: i32) -> i64 {
    i64::from(s)
}
