//! Interoperability of the Flight SQL front end and of server reflection with Python clients
//! nobody here wrote: `grpcio-reflection` (which speaks only reflection `v1alpha`) lists the
//! services, Arrow Flight SQL's among them, and resolves a service descriptor.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Runs `scripts/interop/<script>` with `args`; its combined output, asserting success and `ok`.
async fn run_script(script: &str, args: Vec<String>, ok: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(test_python());
    command.arg(root.join("scripts/interop").join(script)).args(args);
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("joined").expect("python runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains(ok), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcio_reflection_lists_services_over_v1alpha() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, _) = serve(&config(data.path())).await;
    run_script("reflection_v1alpha.py", vec![running.addr().to_string()], "reflection v1alpha ok").await;
    running.stop().await.expect("stops");
}
