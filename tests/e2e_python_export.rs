//! Exports read back by DuckDB and Polars (`scripts/interop/export_read.py`), through the real
//! server and CLI: a server export with underscore names by month, and local exports by family
//! and year and by day, each discovered as a Hive dataset, queried with unquoted column names and
//! checked against the rows and sums of the data written.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`
//! in the workspace; without either the test fails and says to run `bash scripts/test.sh`.

mod common;
mod export_fixture;

use std::path::Path;
use std::process::Command;

use export_fixture::*;
use serde_json::json;

#[test]
fn duckdb_and_polars_read_exports_with_plain_column_names() {
    let python = common::test_python();
    let f = Fixture::start();
    f.ok(true, &["export", "weather", "--all", "--partition", "month", "--naming", "underscore", "--dest", "u-month"]);
    let family = f.local("family-year");
    f.ok(
        false,
        &[
            "export",
            "weather",
            "--all",
            "--partition",
            "year",
            "--naming",
            "family",
            "--to-local",
            family.to_str().expect("utf8"),
        ],
    );
    let daily = f.local("daily");
    let (from, to) = (1_709_078_400_000_000_000i64, 1_709_337_600_000_000_000i64); // 2024-02-28, 2024-03-02
    f.ok(
        false,
        &[
            "export",
            "weather",
            "--all",
            "--from",
            "2024-02-28",
            "--to",
            "2024-03-02",
            "--partition",
            "day",
            "--naming",
            "underscore",
            "--to-local",
            daily.to_str().expect("utf8"),
        ],
    );
    let mut daily_sum = 0.0;
    for station in 0..2 {
        for hour in 0..HOURS {
            let ts = T0 + hour * HOUR;
            if (from..to).contains(&ts) {
                daily_sum += temp(station, hour);
            }
        }
    }
    let months: Vec<String> = std::iter::once("2023-12".to_owned())
        .chain((1..=12).map(|m| format!("2024-{m:02}")))
        .chain(std::iter::once("2025-01".to_owned()))
        .collect();
    let path = |p: &Path| p.to_str().expect("utf8").to_owned();
    let checks = json!([
        {
            "root": path(&f.export_root.join("u-month")), "partition": "month",
            "columns": ["series", "ts", "obs_temp", "obs_rh", "meta_note"],
            "rows": ROWS, "sum_column": "obs_temp", "sum": f.sum_temp, "partitions": months,
        },
        {
            "root": path(&family.join("obs")), "partition": "year", "columns": ["series", "ts", "temp", "rh"],
            "rows": ROWS, "sum_column": "temp", "sum": f.sum_temp, "partitions": ["2023", "2024", "2025"],
        },
        {
            "root": path(&family.join("meta")), "partition": "year", "columns": ["series", "ts", "note"],
            "rows": f.notes, "sum_column": null, "sum": null, "partitions": ["2023", "2024", "2025"],
        },
        {
            "root": path(&daily), "partition": "date", "columns": ["series", "ts", "obs_temp", "obs_rh", "meta_note"],
            "rows": 2 * 3 * 24, "sum_column": "obs_temp", "sum": daily_sum,
            "partitions": ["2024-02-28", "2024-02-29", "2024-03-01"],
        },
    ]);
    let file = f.dir.path().join("checks.json");
    std::fs::write(&file, checks.to_string()).expect("checks");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/interop/export_read.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "export_read.py failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("export_read: ok (4 datasets"), "{stdout}");
}
