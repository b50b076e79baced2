//! Interoperability with the OpenTelemetry Python SDK and its OTLP/gRPC exporter:
//! `scripts/interop/otlp_metrics.py` exports an observable gauge and a counter to a real server
//! (insecure channel, `[otlp] enabled = true`); this test reads them back through Isobar's scan.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).expect("clock after 1970")
}

/// `key` without the resource attributes the SDK adds (`telemetry.sdk.*` with its version, a
/// random `service.instance.id`).
fn without_sdk(key: &str) -> String {
    let added = |kv: &&str| kv.starts_with("telemetry.sdk.") || kv.starts_with("service.instance.id=");
    key.split(',').filter(|kv| !added(kv)).collect::<Vec<_>>().join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_python_sdk_exports_a_gauge_and_a_counter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.otlp.enabled = true;
    let (running, mut client) = serve(&config).await;
    let started = now_ns();
    let mut script = Command::new(test_python());
    script.arg(root.join("scripts/interop/otlp_metrics.py")).arg(running.addr().to_string());
    let output = tokio::task::spawn_blocking(move || script.output()).await.expect("joined").expect("python runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains("opentelemetry-sdk ok"), "{text}");
    let finished = now_ns();

    let rows = rows_f64(&scan_all(&mut client, "station_temperature", &["metrics.value"]).await, "metrics.value");
    let seen: Vec<(String, Option<f64>)> = rows.iter().map(|(k, _, v)| (without_sdk(k), *v)).collect();
    assert_eq!(
        seen,
        vec![
            ("service.name=weather-station,station=KBOI".to_owned(), Some(-2.5)),
            ("service.name=weather-station,station=KSEA".to_owned(), Some(11.5)),
        ]
    );
    assert!(rows[0].0.contains("telemetry.sdk.language=python"), "resource attributes are in the key: {}", rows[0].0);
    assert!(rows.iter().all(|(_, ts, _)| (started..=finished).contains(ts)), "collection time: {rows:?}");

    let tips = scan_all(&mut client, "rain_tips", &["metrics.value"]).await;
    assert_eq!(values_i64(&tips, "metrics.value"), vec![Some(7)], "the cumulative counter, as sent");
    assert_eq!(row_count(&tips), 1);
    running.stop().await.expect("stops");
}
