//! Interoperability with InfluxDB's own Python client (`influxdb-client`, v2 API, gzip,
//! precisions): `scripts/interop/influx_write.py` writes to a real server's line-protocol
//! endpoint and asserts on the answers; this test reads the data back through Isobar's scan.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`.

mod common;

use common::test_python;

use std::path::Path;
use std::process::Command;

use arrow_array::{Array, BooleanArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray};
use isobar_storage::ScanRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influxdb_python_client_writes_line_protocol() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(data.path());
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    let running = isobar::server::start(&config).await.expect("starts");
    let url = format!("http://{}", running.line_protocol_addr().expect("bound"));
    let mut script = Command::new(test_python());
    script.arg(root.join("scripts/interop/influx_write.py")).arg(url);
    let output = tokio::task::spawn_blocking(move || script.output()).await.expect("joined").expect("python runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains("influxdb-client ok: 4 points"), "{text}");

    let batches = running.db().scan(&ScanRequest::new("weather")).expect("scan");
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    let get = |name: &str| b.column_by_name(name).unwrap_or_else(|| panic!("column {name}")).clone();
    let series = get("series");
    let series = series.as_any().downcast_ref::<StringArray>().expect("utf8");
    let keys: Vec<&str> = (0..series.len()).map(|i| series.value(i)).collect();
    let ts = get("ts");
    let ts = ts.as_any().downcast_ref::<TimestampNanosecondArray>().expect("ts");
    let temp = get("fields.temp_c");
    let temp = temp.as_any().downcast_ref::<Float64Array>().expect("f64");
    let rows: Vec<(&str, i64, f64)> = (0..b.num_rows()).map(|i| (keys[i], ts.value(i), temp.value(i))).collect();
    assert_eq!(
        rows,
        vec![
            ("region=us west,station=KSEA", 1_700_000_000_000_000_000, 11.5),
            ("region=us west,station=KSEA", 1_700_000_060_000_000_000, 11.75),
            ("station=KBOI", 1_700_000_000_123_000_000, -2.5),
            ("station=KPDX", 1_700_000_000_000_000_000, 9.0),
        ]
    );
    let gusts = get("fields.gusts");
    let gusts = gusts.as_any().downcast_ref::<Int64Array>().expect("python ints are line-protocol integers");
    assert_eq!((gusts.value(0), gusts.is_null(1)), (3, true));
    let sky = get("fields.sky");
    assert_eq!(sky.as_any().downcast_ref::<StringArray>().expect("utf8").value(1), "clear, dry");
    let raining = get("fields.raining");
    assert!(raining.as_any().downcast_ref::<BooleanArray>().expect("bool").value(3));
    running.stop().await.expect("stops");
}
