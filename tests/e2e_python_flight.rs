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

/// ADBC bulk ingest (`scripts/interop/adbc_ingest.py`): a pyarrow table into `weather.env` and
/// a pandas DataFrame into `public.weather`, read back here through the native `Scan`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_ingest_of_a_pyarrow_table_and_a_pandas_frame_reads_back() {
    use isobar::auth::Permission;
    use isobar::client::{Client, ClientOptions};

    const T0: i64 = 1_700_000_000_000_000_000;
    const SEC: i64 = 1_000_000_000;
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.auth.enabled = true;
    config.auth.tokens = vec![token("root", "secret-root", "*", Permission::Admin)];
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: Some("secret-root".into()), ..ClientOptions::default() };
    let mut admin = Client::connect_with(&running.url(), &options).await.expect("client connects");
    create_weather(&mut admin).await;
    run_script("adbc_ingest.py", vec![running.addr().to_string(), "secret-root".into()], "adbc ingest ok").await;

    let rows = rows_f64(&scan_all(&mut admin, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(
        rows,
        vec![
            ("KBOI".to_owned(), T0, None),
            ("KPDX".to_owned(), T0 + 2 * SEC, Some(9.5)),
            ("KSEA".to_owned(), T0, Some(11.5)),
            ("KSEA".to_owned(), T0 + SEC, Some(12.0)),
        ]
    );
    assert_eq!(
        values_i64(&scan_all(&mut admin, "weather", &["env.code"]).await, "env.code"),
        [Some(3), None, Some(1), Some(2)]
    );
    running.stop().await.expect("stops");
}

/// ADBC queries (`scripts/interop/adbc_flight_sql.py`): DB-API `execute` and
/// `fetch_arrow_table`, a parameter, `adbc_get_objects`, pandas `read_sql`, a client that stops
/// reading mid-stream, and the refusals (no token, a join over an unreadable table, a syntax
/// error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_queries_metadata_pandas_and_refusals() {
    use isobar::auth::Permission;
    use isobar::client::{Client, ClientOptions};

    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.auth.enabled = true;
    config.auth.tokens = vec![
        token("root", "secret-root", "*", Permission::Admin),
        token("weather-reader", "secret-weather", "weather", Permission::View),
    ];
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: Some("secret-root".into()), ..ClientOptions::default() };
    let mut admin = Client::connect_with(&running.url(), &options).await.expect("client connects");
    create_weather(&mut admin).await;
    create_other_with_a_row(&mut admin, 1_700_000_000_000_000_000).await;
    let args = vec![running.addr().to_string(), "secret-root".into(), "secret-weather".into()];
    run_script("adbc_flight_sql.py", args, "adbc flight sql ok").await;
    running.stop().await.expect("stops");
}
