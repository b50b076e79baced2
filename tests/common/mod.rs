//! Helpers of the end-to-end tests: a real server on a loopback port over a temporary data
//! directory, a client connected to it, and small builders of requests and answers.
#![allow(dead_code, unused_imports)] // each test binary uses its own subset

use std::path::Path;

pub mod agent;
pub mod pki;
pub mod psql;

use arrow_array::RecordBatch;
use isobar::client::{Client, collect};
use isobar::config::{ByteSize, Config};
use isobar::server::{Running, start};
use isobar_proto::v1 as pb;
pub use isobar_testkit::rows::{row_count, rows_f64, values_i64};
use pb::series_selector::Selector;

/// A configuration serving `dir` on 127.0.0.1 with a port the OS chooses.
pub fn config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("address");
    config.server.data_dir = dir.to_path_buf();
    config.server.max_message_bytes = ByteSize(1 << 20);
    config.metrics.listen = "127.0.0.1:0".parse().expect("address");
    config
}

/// Turns on the line-protocol listener on loopback, and auth with one token, `writer` (secret
/// `secret-w`), that may write every table: the set-up of the line-protocol security tests.
pub fn line_protocol_with_a_writer(config: &mut Config) {
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    config.auth.tokens = vec![isobar::config::TokenConfig {
        name: "writer".into(),
        sha256: isobar::auth::hash_secret("secret-w"),
        grants: [("*".to_owned(), vec![isobar::auth::Permission::Write])].into_iter().collect(),
    }];
}

/// A token of the config file: `name` with `secret`, holding `permission` on `table` (or `*`).
pub fn token(
    name: &str,
    secret: &str,
    table: &str,
    permission: isobar::auth::Permission,
) -> isobar::config::TokenConfig {
    isobar::config::TokenConfig {
        name: name.into(),
        sha256: isobar::auth::hash_secret(secret),
        grants: [(table.to_owned(), vec![permission])].into_iter().collect(),
    }
}

/// The `other` table (family `m`: `v` f64) with one row, series `KXYZ`.
pub async fn create_other_with_a_row(client: &mut Client, ts: i64) {
    let other = pb::TableSpec {
        name: "other".into(),
        families: vec![pb::FamilySpec {
            name: "m".into(),
            columns: vec![pb::ColumnSpec { name: "v".into(), r#type: pb::ColumnType::F64.into() }],
            ttl_ns: None,
        }],
        dynamic_columns: false,
        ttl_ns: None,
    };
    client
        .admin
        .create_table(pb::CreateTableRequest { table: Some(other), if_not_exists: false })
        .await
        .expect("other");
    let mut v = f64_column("v", vec![1.0]);
    v.family = "m".into();
    client.ingest.write(one_batch("other", "KXYZ", vec![ts], vec![v])).await.expect("written");
}

/// A Flight SQL client of `running`, sending `token` as its bearer token when given.
pub async fn flight_sql(
    running: &Running,
    token: Option<&str>,
) -> arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel> {
    let channel =
        tonic::transport::Endpoint::from_shared(running.url()).expect("url").connect().await.expect("connects");
    let mut client = arrow_flight::sql::client::FlightSqlServiceClient::new(channel);
    if let Some(token) = token {
        client.set_token(token.to_owned());
    }
    client
}

/// Starts a server with `config` and connects a client to it.
pub async fn serve(config: &Config) -> (Running, Client) {
    let running = start(config).await.expect("server starts");
    let client = Client::connect(&running.url()).await.expect("client connects");
    (running, client)
}

/// The `weather` table: family `env` with `temp` (f64) and `code` (i64), family `meta` with
/// `note` (string).
pub fn weather_spec() -> pb::TableSpec {
    let col = |name: &str, ty: pb::ColumnType| pb::ColumnSpec { name: name.into(), r#type: ty.into() };
    pb::TableSpec {
        name: "weather".into(),
        families: vec![
            pb::FamilySpec {
                name: "env".into(),
                columns: vec![col("temp", pb::ColumnType::F64), col("code", pb::ColumnType::I64)],
                ttl_ns: None,
            },
            pb::FamilySpec { name: "meta".into(), columns: vec![col("note", pb::ColumnType::String)], ttl_ns: None },
        ],
        dynamic_columns: false,
        ttl_ns: None,
    }
}

/// Creates the `weather` table.
pub async fn create_weather(client: &mut Client) {
    let request = pb::CreateTableRequest { table: Some(weather_spec()), if_not_exists: false };
    let response = client.admin.create_table(request).await.expect("table created").into_inner();
    assert!(response.created);
}

/// An f64 column of family `env`.
pub fn f64_column(name: &str, values: Vec<f64>) -> pb::Column {
    pb::Column {
        family: "env".into(),
        name: name.into(),
        values: Some(pb::column::Values::F64Values(pb::DoubleValues { values })),
        validity: Vec::new(),
        nulls: Vec::new(),
    }
}

/// An f64 column of family `env` whose rows `gaps` have no value (validity bit clear: absent
/// cells, not explicit nulls).
pub fn f64_column_with_gaps(name: &str, values: Vec<f64>, gaps: &[usize]) -> pb::Column {
    let mut validity = vec![0u8; values.len().div_ceil(8)];
    for row in (0..values.len()).filter(|row| !gaps.contains(row)) {
        validity[row / 8] |= 1 << (row % 8);
    }
    pb::Column { validity, ..f64_column(name, values) }
}

/// Writes the known rows of `weather.env` that the PostgreSQL tests check: KSEA at `t0` (temp
/// 11.5, code 1) and `t0 + 1s` (12.0, 2), KPDX at `t0 + 2s` with temp NULL and code 3 (the code
/// makes the row exist: a family has a row only where one of its cells was written).
pub async fn write_known_weather_rows(client: &mut Client, t0: i64) {
    const SEC: i64 = 1_000_000_000;
    let ksea = pb::SeriesBatch {
        table: "weather".into(),
        series: "KSEA".into(),
        ts: vec![t0, t0 + SEC],
        columns: vec![f64_column("temp", vec![11.5, 12.0]), i64_column("code", vec![1, 2])],
    };
    let kpdx = pb::SeriesBatch {
        table: "weather".into(),
        series: "KPDX".into(),
        ts: vec![t0 + 2 * SEC],
        columns: vec![f64_column_with_gaps("temp", vec![0.0], &[0]), i64_column("code", vec![3])],
    };
    let request = pb::WriteRequest { batches: vec![ksea, kpdx], ..Default::default() };
    client.ingest.write(request).await.expect("known rows written");
}

/// An i64 column of family `env`.
pub fn i64_column(name: &str, values: Vec<i64>) -> pb::Column {
    pb::Column {
        family: "env".into(),
        name: name.into(),
        values: Some(pb::column::Values::I64Values(pb::Int64Values { values })),
        validity: Vec::new(),
        nulls: Vec::new(),
    }
}

/// A request of one series batch.
pub fn one_batch(table: &str, series: &str, ts: Vec<i64>, columns: Vec<pb::Column>) -> pb::WriteRequest {
    pb::WriteRequest {
        batches: vec![pb::SeriesBatch { table: table.into(), series: series.into(), ts, columns }],
        ..Default::default()
    }
}

/// A selector of every series.
pub fn all() -> Option<pb::SeriesSelector> {
    Some(pb::SeriesSelector { selector: Some(Selector::All(pb::AllSeries {})) })
}

/// A selector of one series.
pub fn exact(key: &str) -> Option<pb::SeriesSelector> {
    Some(pb::SeriesSelector { selector: Some(Selector::Exact(key.into())) })
}

/// Scans `columns` of every series of `table`.
pub async fn scan_all(client: &mut Client, table: &str, columns: &[&str]) -> Vec<RecordBatch> {
    let request = pb::ScanRequest {
        table: table.into(),
        selector: all(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        ..Default::default()
    };
    let stream = client.query.scan(request).await.expect("scan starts").into_inner();
    collect(stream).await.expect("scan answer").1
}

/// The Python of the interoperability tests: `$ISOBAR_TEST_PYTHON` (set by `scripts/test.sh`),
/// else `.venv/bin/python`; fails the test with what to run when neither exists.
pub fn test_python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("ISOBAR_TEST_PYTHON") {
        return std::path::PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the interop test: ISOBAR_TEST_PYTHON is unset and {} is missing; run `bash scripts/test.sh` \
         (it creates .venv with the packages of scripts/requirements-test.txt)",
        venv.display()
    );
    venv
}
