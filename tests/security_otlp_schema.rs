//! Issue 20, finding 3 on OTLP (`MetricsService/Export`): a token without `write` on a table is
//! refused before the catalog is consulted, so the answer names no family, column, type, nor
//! whether the table exists or takes new columns. A token with the permission still gets the
//! catalog's answer. Runs a real server on loopback.

use isobar::auth::{Permission, hash_secret};
use isobar::config::{Config, TokenConfig};
use isobar::server::start;
use isobar_storage::{ColumnType, TableSpec};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use tonic::{Code, Status};

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("address");
    config.server.data_dir = dir.to_path_buf();
    config.metrics.listen = "127.0.0.1:0".parse().expect("address");
    config.otlp.enabled = true;
    config.otlp.create_tables = false;
    config.auth.enabled = true;
    let token = |name: &str, secret: &str, table: &str| TokenConfig {
        name: name.into(),
        sha256: hash_secret(secret),
        grants: [(table.to_owned(), vec![Permission::Write])].into_iter().collect(),
    };
    config.auth.tokens = vec![token("other-writer", "secret-o", "other"), token("writer", "secret-w", "*")];
    config
}

/// One gauge point of `metric` with a double value.
fn gauge(metric: &str) -> ExportMetricsServiceRequest {
    let point = NumberDataPoint {
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(number_data_point::Value::AsDouble(1.5)),
        ..Default::default()
    };
    let metric = Metric {
        name: metric.into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: vec![point] })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics { metrics: vec![metric], ..Default::default() }],
            ..Default::default()
        }],
    }
}

async fn export(url: &str, secret: &'static str, request: ExportMetricsServiceRequest) -> Result<(), Status> {
    let channel =
        tonic::transport::Channel::from_shared(url.to_owned()).expect("url").connect().await.expect("connects");
    let mut client = MetricsServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", format!("Bearer {secret}").parse().expect("ascii"));
        Ok(r)
    });
    client.export(request).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_write_on_the_table_learns_nothing_of_its_schema_over_otlp() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&config(data.path())).await.expect("starts");
    let url = running.url();
    let db = running.db();
    db.create_table(TableSpec::new("secret").family("hidden_family", &[("hidden_col", ColumnType::F64)]))
        .expect("create");
    db.create_table(TableSpec::new("typed").family("metrics", &[("value", ColumnType::I64)])).expect("create");
    // No `metrics` family and no dynamic columns; a value column of another type; no such table
    // (otlp.create_tables = false): three catalog answers before the fix.
    let leaks = ["hidden_family", "hidden_col", "metrics.value", "dynamic", "i64", "f64", "does not exist"];
    for metric in ["secret", "typed", "absent"] {
        let status = export(&url, "secret-o", gauge(metric)).await.expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{metric}: {status:?}");
        for leak in leaks {
            assert!(!status.message().contains(leak), "{metric}: {leak:?} disclosed: {}", status.message());
        }
    }
    // The writer of every table still gets the catalog's answers.
    let expected = [("secret", "metrics.value"), ("typed", "i64"), ("absent", "does not exist")];
    for (metric, detail) in expected {
        let status = export(&url, "secret-w", gauge(metric)).await.expect_err("refused by the catalog");
        assert_eq!(status.code(), Code::InvalidArgument, "{metric}: {status:?}");
        assert!(status.message().contains(detail), "{metric}: {}", status.message());
    }
    assert!(db.table_def("absent").is_err(), "refused requests created nothing");
    running.stop().await.expect("stops");
}
