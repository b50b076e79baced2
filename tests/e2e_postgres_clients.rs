//! Interoperability of the PostgreSQL wire-protocol front end with Python clients nobody here
//! wrote: psycopg 3 (libpq), SQLAlchemy 2 over psycopg, and pandas over SQLAlchemy, driven by
//! `scripts/interop/pg_clients.py` against a real server with authentication on.
//!
//! The interpreter is `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`), else `.venv/bin/python`.

mod common;

use std::path::Path;
use std::process::Command;

use common::psql::LIBPQ_ENV;
use common::*;
use isobar::auth::Permission;
use isobar::client::{Client, ClientOptions};
use isobar_proto::v1 as pb;

/// 2023-11-14 22:13:20 UTC.
const T0: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;
/// Rows of the `BIG` series (temp 0, 1, ..., one a millisecond from a day after `T0`).
const BIG_ROWS: usize = 50_000;
/// Rows of one write request of `BIG`: 10,000 rows are about 160 KiB, well under the 1 MiB
/// message cap of the test configuration.
const BIG_BATCH: usize = 10_000;

/// Runs `scripts/interop/<script>` with `args`; its combined output, asserting success and `ok`.
async fn run_script(script: &str, args: Vec<String>, ok: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(test_python());
    command.arg(root.join("scripts/interop").join(script)).args(args);
    for name in LIBPQ_ENV {
        command.env_remove(name);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("joined").expect("python runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains(ok), "{text}");
    text
}

/// The `BIG` series: `BIG_ROWS` rows of `env.temp` = 0, 1, ..., one a millisecond from a day after
/// `T0`, in requests of `BIG_BATCH` rows.
async fn write_big_series(client: &mut Client) {
    let start = T0 + 86_400 * SEC;
    for first in (0..BIG_ROWS).step_by(BIG_BATCH) {
        let rows = first..(first + BIG_BATCH).min(BIG_ROWS);
        let ts = rows.clone().map(|i| start + i as i64 * 1_000_000).collect();
        let temps = rows.map(|i| i as f64).collect();
        let request = one_batch("weather", "BIG", ts, vec![f64_column("temp", temps)]);
        client.ingest.write(request).await.expect("BIG written");
    }
}

/// psycopg, SQLAlchemy and pandas against the PostgreSQL front end (`pg_clients.py`): queries
/// with timezone-aware parameters answered as aware UTC datetimes in text and binary format,
/// NULLs, a server-side cursor (DECLARE/FETCH/CLOSE) over 50,000 rows, statements prepared once
/// and executed many times, session commands (SHOW, SET, version(), BEGIN/COMMIT) with the
/// transaction status the server reports; the refusals with their SQLSTATE (a wrong or missing
/// password, another database, a table the token may not read: 42501, an unknown table: 42P01,
/// a syntax error: 42601), each leaving the connection usable; pandas `read_sql` into a
/// tz-aware column, and SQLAlchemy's inspector listing schemas, tables and columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_sqlalchemy_and_pandas_query_over_the_postgres_protocol() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.postgres.enabled = true;
    config.postgres.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    config.auth.tokens = vec![
        token("root", "secret-root", "*", Permission::Admin),
        token("weather-reader", "secret-weather", "weather", Permission::View),
        token("other-reader", "secret-other", "other", Permission::View),
    ];
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: Some("secret-root".into()), ..ClientOptions::default() };
    let mut admin = Client::connect_with(&running.url(), &options).await.expect("client connects");
    create_weather(&mut admin).await;
    create_other_with_a_row(&mut admin, T0).await;
    write_known_weather_rows(&mut admin, T0).await;
    write_big_series(&mut admin).await;

    let pg = running.postgres_addr().expect("the PostgreSQL listener is bound");
    let args = vec![
        pg.ip().to_string(),
        pg.port().to_string(),
        "secret-root".into(),
        "secret-weather".into(),
        "secret-other".into(),
    ];
    run_script("pg_clients.py", args, "pg clients ok").await;
    running.stop().await.expect("stops");
}

/// The queries Grafana's PostgreSQL data source sends (`tests/fixtures/grafana_postgres.sql`,
/// replayed by `pg_grafana.py` over the simple query protocol as Grafana's drivers send them):
/// its health pings (`;` and `-- ping`), version and TimescaleDB probes, schema, table and
/// column lists (PostgreSQL type names), and the panel queries (`$__timeGroupAlias`,
/// `time_bucket`, `date_bin`, `$__timeFilter`, the builder's aggregate) with their answers
/// checked against the known data, and EXPLAIN showing the time range, and for `time_bucket`
/// and `date_bin` the aggregate, answered by the engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_queries_answer_and_push_down() {
    const START: i64 = 1_699_999_200_000_000_000; // 2023-11-14T22:00:00Z
    const MINUTE: i64 = 60 * SEC;
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.postgres.enabled = true;
    config.postgres.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    config.auth.tokens = vec![token("grafana", "secret-grafana", "*", Permission::Admin)];
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: Some("secret-grafana".into()), ..ClientOptions::default() };
    let mut admin = Client::connect_with(&running.url(), &options).await.expect("client connects");
    let col = |name: &str| pb::ColumnSpec { name: name.into(), r#type: pb::ColumnType::F64.into() };
    let spec = pb::TableSpec {
        name: "weather".into(),
        families: vec![pb::FamilySpec { name: "env".into(), columns: vec![col("temp"), col("hum")], ttl_ns: None }],
        dynamic_columns: false,
        ttl_ns: None,
    };
    admin.admin.create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false }).await.expect("table");
    for (series, offset) in [("KSEA", 10.0), ("KPDX", 20.0), ("KBOI", 30.0)] {
        let minutes = 0..120i64;
        let ts = minutes.clone().map(|m| START + m * MINUTE).collect();
        let temp = minutes.clone().map(|m| m as f64 / 2.0 + offset).collect();
        let hum = minutes.map(|m| 50.0 + (m % 7) as f64).collect();
        let request = one_batch("weather", series, ts, vec![f64_column("temp", temp), f64_column("hum", hum)]);
        admin.ingest.write(request).await.expect("written");
    }
    let pg = running.postgres_addr().expect("the PostgreSQL listener is bound");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grafana_postgres.sql");
    let args = vec![pg.ip().to_string(), pg.port().to_string(), "secret-grafana".into(), fixture.display().to_string()];
    run_script("pg_grafana.py", args, "pg grafana ok").await;
    running.stop().await.expect("stops");
}
