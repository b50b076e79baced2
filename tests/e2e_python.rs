//! Interoperability with a client nobody here wrote: Python stubs generated from `proto/` by
//! `grpcio-tools`, driven by `scripts/interop/roundtrip.py` (which asserts on its own) against a
//! real server on a loopback port; the scan answer is decoded with `pyarrow`.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`
//! in the workspace; without either the test fails and says to run `bash scripts/test.sh`.

mod common;

use common::test_python;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `command`, failing the test with its output when it fails.
fn run(mut command: Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{what} failed ({}):\n{text}", output.status);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_client_writes_and_reads_back_with_pyarrow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = test_python();
    let stubs = tempfile::tempdir().expect("tempdir");
    let protos: Vec<PathBuf> = ["common", "table", "ingest", "query", "access", "admin"]
        .iter()
        .map(|name| root.join(format!("proto/isobar/v1/{name}.proto")))
        .collect();
    let mut protoc = Command::new(&python);
    protoc
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(root.join("proto"))
        .arg(format!("--python_out={}", stubs.path().display()))
        .arg(format!("--grpc_python_out={}", stubs.path().display()))
        .args(&protos);
    run(protoc, "grpc_tools.protoc");
    assert!(stubs.path().join("isobar/v1/ingest_pb2_grpc.py").exists(), "stubs generated");

    let data = tempfile::tempdir().expect("tempdir");
    let (running, _client) = common::serve(&common::config(data.path())).await;
    let mut script = Command::new(&python);
    script.arg(root.join("scripts/interop/roundtrip.py")).arg(stubs.path()).arg(running.addr().to_string());
    let output =
        tokio::task::spawn_blocking(move || run(script, "scripts/interop/roundtrip.py")).await.expect("joined");
    assert!(output.contains("python interop ok: 7 rows"), "{output}");

    // What Python wrote is really in the database.
    let db_rows = running.db().scan(&isobar_storage::ScanRequest::new("py_weather")).expect("scan");
    assert_eq!(db_rows.iter().map(|b| b.num_rows()).sum::<usize>(), 7);
    running.stop().await.expect("clean stop");
}
