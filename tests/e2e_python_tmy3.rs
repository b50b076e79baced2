//! The importer on real measured data: the TMY3 files the `pvlib` Python package ships (installed
//! in the test venv; nothing is downloaded) are imported with the one command `docs/import.md`
//! documents, read back with `scan --format csv`, and `scripts/interop/tmy3_check.py` compares
//! daily maxima and monthly means in local time of a zone with DST against pandas over the same
//! file, both over the scanned rows and as Isobar computes them itself (`agg --tz ZONE --bucket
//! 1d` and `--bucket 1mo`, DST-aware local days and months).
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON`, else `.venv/bin/python`; without either the test
//! fails (it never skips).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use isobar_testkit::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// Runs `command`; fails the test with its output unless it succeeds. Returns standard output.
fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{what} failed:\n{stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The TMY3 files of the installed pvlib (`723170TYA.CSV`, `703165TY.csv` in pvlib 0.16).
fn tmy3_files(python: &Path) -> Vec<PathBuf> {
    let code = "import os, pvlib; d = os.path.join(os.path.dirname(pvlib.__file__), 'data'); \
                print('\\n'.join(os.path.join(d, f) for f in sorted(os.listdir(d)) \
                if f.upper().endswith(('TY.CSV', 'TYA.CSV'))))";
    let out = run(Command::new(python).args(["-c", code]), "listing pvlib's data");
    out.lines().map(PathBuf::from).collect()
}

/// `Etc/GMT+5` for a station line whose fourth field is the offset `-5.0`.
fn station_zone(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("read TMY3 file");
    let station = text.lines().next().expect("station line");
    let offset: f64 = station.split(',').nth(3).expect("offset field").trim().parse().expect("offset");
    let hours = -offset as i64;
    assert_eq!(hours as f64, -offset, "whole-hour offset");
    format!("Etc/GMT{hours:+}")
}

#[test]
fn pvlib_tmy3_files_import_and_match_pandas_in_local_time() {
    let python = common::test_python();
    let files = tmy3_files(&python);
    assert!(!files.is_empty(), "pvlib ships no TMY3 file");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = format!("http://{}", server.addr());
    let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/interop/tmy3_check.py");
    for (i, file) in files.iter().enumerate() {
        let table = format!("tmy3_{i}");
        let isobar = || {
            let mut c = Command::new(BIN);
            c.args(["--addr", &addr]);
            c
        };
        run(isobar().args(["table", "create", &table, "--family", "met:temp_c=f64,ghi=f64"]), "table create");
        // The command of docs/import.md, with this station's zone.
        let zone = station_zone(file);
        let mut import = isobar();
        import
            .args(["write", "--table", &table, "--file"])
            .arg(file)
            .args(["--skip-lines", "1", "--series", "station"])
            .args(["--date-column", "Date (MM/DD/YYYY)", "--time-column", "Time (HH:MM)"])
            .args(["--ts-format", "%m/%d/%Y %H:%M", "--tz", &zone])
            .args(["--map", "Dry-bulb (C)=met.temp_c", "--map", "GHI (W/m^2)=met.ghi", "--null-values", "-9900"]);
        let output = import.output().expect("runs");
        let summary = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {summary}", file.display());
        assert!(summary.contains("imported 8760 rows (17520 points, 1 series)"), "{summary}");
        let scanned = run(isobar().args(["--format", "csv", "scan", &table, "--all"]), "scan");
        let scan_file = dir.path().join(format!("{table}.csv"));
        std::fs::write(&scan_file, scanned).expect("write scan");
        // Group in the local civil time of the station's region, which has DST.
        let civil = if zone == "Etc/GMT+9" { "America/Anchorage" } else { "America/New_York" };
        let agg = |bucket: &str, functions: &[&str], name: &str| {
            let mut command = isobar();
            command.args(["--format", "csv", "agg", &table, "--all", "--tz", civil, "--bucket", bucket]);
            for f in functions {
                command.args(["--fn", f]);
            }
            let path = dir.path().join(format!("{table}-{name}.csv"));
            std::fs::write(&path, run(&mut command, name)).expect("write aggregate");
            path
        };
        let daily = agg("1d", &["max:met.temp_c:temp_max"], "daily");
        let monthly = agg("1mo", &["avg:met.temp_c:temp_c", "avg:met.ghi:ghi"], "monthly");
        let mut script = Command::new(&python);
        script.arg(&check).arg(file).arg(&scan_file).arg(civil).arg(&daily).arg(&monthly);
        let said = run(&mut script, "tmy3_check.py");
        assert!(said.contains("tmy3 ok: 8760 rows"), "{said}");
    }
}
