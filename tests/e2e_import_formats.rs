//! `isobar write --file` with JSON Lines and Parquet files against a real server: each file is
//! imported with the same mapping flags as CSV and scanned back value for value; a table exported
//! with `export --to-local` imports into another table with no flags and scans back equal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use isobar_testkit::server::ServerCommand;
use parquet::arrow::ArrowWriter;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn isobar(addr: &SocketAddr, args: &[&str]) -> Output {
    Command::new(BIN).arg("--addr").arg(format!("http://{addr}")).args(args).output().expect("runs")
}

/// Runs a client command that must succeed; returns its standard output and standard error.
fn ok(addr: &SocketAddr, args: &[&str]) -> (String, String) {
    let out = isobar(addr, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "isobar {args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).expect("utf8"), stderr)
}

/// Runs a client command that must fail; returns its standard error.
fn fails(addr: &SocketAddr, args: &[&str]) -> String {
    let out = isobar(addr, args);
    assert!(!out.status.success(), "isobar {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn scan_csv(addr: &SocketAddr, table: &str) -> String {
    ok(addr, &["--format", "csv", "scan", table, "--all"]).0
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf8 path")
}

/// Every `.parquet` file under `dir`, sorted.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn jsonl_and_parquet_files_import_and_an_export_imports_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerCommand::new(BIN, dir.path().join("data")).start().expect("serve starts");
    let addr = server.addr();
    let schema = ["--family", "env:temp=f64,rh=i64,ok=bool", "--family", "meta:note=string"];
    for table in ["weather", "frames", "copy"] {
        ok(&addr, &[&["table", "create", table][..], &schema].concat());
    }

    // JSON Lines: keys mapped, a template series key, a null, a missing key, an unmapped nested
    // key, a blank line, an integer timestamp in milliseconds.
    let jsonl = dir.path().join("readings.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            "{\"station\":\"KSEA\",\"time\":\"2024-05-01T00:00:00Z\",\"temp\":11.5,\"rh\":80,\"ok\":true,\"note\":\"a, b\",\"geo\":{\"lat\":47.4}}\n",
            "\n",
            "{\"time\":\"2024-05-01T01:00:00+02:00\",\"station\":\"KSEA\",\"temp\":null,\"rh\":81,\"ok\":false}\n",
            "{\"station\":\"KBFI\",\"time\":1714521600000,\"temp\":-2,\"rh\":null,\"ok\":null,\"note\":\"x\"}\n",
        ),
    )
    .expect("jsonl");
    let maps = ["--map", "temp=env.temp", "--map", "rh=env.rh", "--map", "ok=env.ok", "--map", "note=meta.note"];
    let flags = ["--series", "{station}", "--ts-column", "time", "--ts-unit", "ms"];
    let (_, said) =
        ok(&addr, &[&["write", "--table", "weather", "--file", path_str(&jsonl)][..], &flags, &maps].concat());
    assert!(
        said.contains("imported 3 rows (8 points, 2 series) from")
            && said.contains("; 1 columns not mapped were skipped"),
        "{said}"
    );
    assert_eq!(
        scan_csv(&addr, "weather"),
        "series,ts,env.temp,env.rh,env.ok,meta.note\n\
         KBFI,2024-05-01T00:00:00Z,-2.0,,,x\n\
         KSEA,2024-04-30T23:00:00Z,,81,false,\n\
         KSEA,2024-05-01T00:00:00Z,11.5,80,true,\"a, b\"\n"
    );

    // A bad JSON line refuses the whole file, naming the line; nothing is written.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"series\":\"z\",\"ts\":\"2024-05-01T00:00:00Z\",\"env.temp\":1}\n{\"series\":\"z\",\"ts\":[1]}\n",
    )
    .expect("bad");
    let refused = fails(&addr, &["write", "--table", "weather", "--file", path_str(&bad)]);
    assert!(
        refused.contains("line 2, key \"ts\": an array is not a field value")
            && refused.contains("nothing was written"),
        "{refused}"
    );
    assert!(!scan_csv(&addr, "weather").contains("\nz,"), "a refused file writes nothing");

    // Parquet: columns mapped, an integer series column as the template, a timestamp column in
    // microseconds read as instants, nulls.
    let t0 = 1_714_521_600_000_000i64;
    let frame = RecordBatch::try_from_iter([
        ("station", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
        ("time", Arc::new(TimestampMicrosecondArray::from(vec![t0, t0 + 1_500_000, t0]).with_timezone("UTC"))),
        ("temp", Arc::new(Float64Array::from(vec![Some(0.1), None, Some(1e-7)]))),
        ("rh", Arc::new(Int64Array::from(vec![Some(50), Some(-1), None]))),
        ("note", Arc::new(StringArray::from(vec![None, Some("é \"q\""), Some("")]))),
    ])
    .expect("batch");
    let parquet = dir.path().join("frame.parquet");
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&parquet).expect("create"), frame.schema(), None).expect("writer");
    writer.write(&frame).expect("write");
    writer.close().expect("close");
    let flags = ["--series", "s{station}", "--ts-column", "time", "--null-values", "-1"];
    let maps = ["--map", "temp=env.temp", "--map", "rh=env.rh", "--map", "note=meta.note"];
    let (_, said) =
        ok(&addr, &[&["write", "--table", "frames", "--file", path_str(&parquet)][..], &flags, &maps].concat());
    assert!(said.contains("imported 3 rows (4 points, 2 series)"), "{said}");
    assert_eq!(
        scan_csv(&addr, "frames"),
        "series,ts,env.temp,env.rh,env.ok,meta.note\n\
         s1,2024-05-01T00:00:00Z,0.1,50,,\n\
         s1,2024-05-01T00:00:01.500Z,,,,\"é \"\"q\"\"\"\n\
         s2,2024-05-01T00:00:00Z,1e-7,,,\n"
    );

    // Round trip: export to local Parquet, import every file into another table with no flags.
    let exported = dir.path().join("export");
    ok(&addr, &["export", "weather", "--all", "--partition", "day", "--to-local", path_str(&exported)]);
    let files = parquet_files(&exported);
    assert!(!files.is_empty(), "export wrote no files");
    for file in &files {
        let (dry, _) = ok(&addr, &["write", "--table", "copy", "--file", path_str(file), "--dry-run"]);
        assert!(dry.contains("(not written: --dry-run)"), "{dry}");
        ok(&addr, &["write", "--table", "copy", "--file", path_str(file)]);
    }
    assert_eq!(scan_csv(&addr, "copy"), scan_csv(&addr, "weather"));
    ok(&addr, &["export", "frames", "--all", "--partition", "none", "--to-local", path_str(&dir.path().join("f"))]);
    for file in parquet_files(&dir.path().join("f")) {
        ok(&addr, &["write", "--table", "copy", "--file", path_str(&file)]);
    }
    let copy = scan_csv(&addr, "copy");
    let frames = scan_csv(&addr, "frames");
    let frames_rows: Vec<&str> = frames.lines().skip(1).collect();
    assert!(frames_rows.iter().all(|row| copy.lines().any(|c| c == *row)), "{copy}");
    assert_eq!(copy.lines().count(), 1 + 3 + 3, "{copy}");
}
