//! End to end over gRPC on loopback: OTLP metrics (`MetricsService/Export`) with the generated
//! tonic client. Gauges and sums land in one table per metric with the attributes as series key
//! and are read back through Isobar's own `Scan`; histograms are reported as rejected in
//! `partial_success`; a refused request changes nothing; the service is off by default; with
//! `[auth]` the caller needs write permission on every table the request writes.

mod common;

use common::*;
use isobar::auth::Permission;
use isobar::config::Config;
use isobar::server::Running;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use tonic::transport::Channel;
use tonic::{Code, Status};

const T0: u64 = 1_700_000_000_000_000_000;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
}

fn double(ts: u64, value: f64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        time_unix_nano: ts,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn int(ts: u64, value: i64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        time_unix_nano: ts,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric { name: name.into(), data: Some(metric::Data::Gauge(Gauge { data_points: points })), ..Default::default() }
}

fn counter(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    let sum = Sum { data_points: points, aggregation_temporality: 2, is_monotonic: true };
    Metric { name: name.into(), data: Some(metric::Data::Sum(sum)), ..Default::default() }
}

/// One resource (`service.name=station-gw`) with `metrics`.
fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: vec![text("service.name", "station-gw")], ..Default::default() }),
            scope_metrics: vec![ScopeMetrics { metrics, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn otlp_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.otlp.enabled = true;
    config
}

async fn otlp_client(running: &Running) -> MetricsServiceClient<Channel> {
    MetricsServiceClient::connect(running.url()).await.expect("OTLP client connects")
}

async fn export(
    client: &mut MetricsServiceClient<Channel>,
    request: ExportMetricsServiceRequest,
) -> Result<ExportMetricsServiceResponse, Status> {
    client.export(request).await.map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gauges_and_sums_become_tables_by_series_and_histograms_are_partial_success() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&otlp_config(dir.path())).await;
    let mut otlp = otlp_client(&running).await;
    let histogram = Metric {
        name: "wind.gust.duration".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint { count: 3, sum: Some(4.5), ..Default::default() }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    };
    let metrics = vec![
        gauge(
            "air.temperature",
            vec![
                double(T0, 11.5, vec![text("station", "KSEA")]),
                double(T0 + 60, 11.75, vec![text("station", "KSEA")]),
                double(T0, -2.5, vec![text("station", "KBOI"), text("region", "us,west")]),
            ],
        ),
        counter("rain.tips", vec![int(T0, 7, vec![]), int(T0 + 60, 9, vec![])]),
        histogram,
    ];
    let response = export(&mut otlp, request(metrics)).await.expect("export");
    let partial = response.partial_success.expect("the histogram is reported");
    assert_eq!(partial.rejected_data_points, 1);
    assert!(partial.error_message.contains("histogram") && partial.error_message.contains("wind.gust.duration"));

    let rows = rows_f64(&scan_all(&mut client, "air_temperature", &["metrics.value"]).await, "metrics.value");
    let key = |extra: &str| {
        format!("{extra}service.name=station-gw{}", if extra.is_empty() { ",station=KSEA" } else { ",station=KBOI" })
    };
    assert_eq!(
        rows,
        vec![
            (key(r"region=us\,west,"), T0 as i64, Some(-2.5)),
            (key(""), T0 as i64, Some(11.5)),
            (key(""), T0 as i64 + 60, Some(11.75)),
        ]
    );
    let tips = scan_all(&mut client, "rain_tips", &["metrics.value"]).await;
    assert_eq!(values_i64(&tips, "metrics.value"), vec![Some(7), Some(9)], "a monotonic sum is stored as sent");
    let tables: Vec<String> = running.db().tables().iter().map(|t| t.name.clone()).collect();
    assert!(!tables.iter().any(|t| t.starts_with("wind")), "no table for the rejected histogram: {tables:?}");

    // Nothing Isobar stores: a success with only the count, and no write.
    let writes = running.db().stats().writes;
    let only_histogram = request(vec![Metric {
        name: "h".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default()],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    }]);
    let response = export(&mut otlp, only_histogram).await.expect("export");
    assert_eq!(response.partial_success.map(|p| p.rejected_data_points), Some(1));
    assert_eq!(running.db().stats().writes, writes);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _client) = serve(&otlp_config(dir.path())).await;
    let mut otlp = otlp_client(&running).await;
    export(&mut otlp, request(vec![gauge("level", vec![int(T0, 1, vec![])])])).await.expect("first write");
    let before = || {
        let db = running.db();
        (db.tables().iter().map(|t| t.name.clone()).collect::<Vec<_>>(), db.stats().writes, db.stats().last_seq)
    };
    let snapshot = before();

    // A good metric next to one whose name makes no table: nothing of it is written.
    let bad_name = request(vec![gauge("fresh", vec![int(T0, 1, vec![])]), gauge("9-lives", vec![int(T0, 1, vec![])])]);
    let status = export(&mut otlp, bad_name).await.expect_err("bad name");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("9-lives"), "{status:?}");
    // `level` is an i64 column now: a double for it conflicts with the table's schema.
    let conflict =
        request(vec![gauge("fresh", vec![int(T0, 1, vec![])]), gauge("level", vec![double(T0, 1.5, vec![])])]);
    let status = export(&mut otlp, conflict).await.expect_err("type conflict");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("\"level\"") && status.message().contains("i64"), "{status:?}");
    let late = request(vec![gauge("fresh", vec![int(u64::MAX, 1, vec![])])]);
    assert_eq!(export(&mut otlp, late).await.expect_err("timestamp").code(), Code::InvalidArgument);
    assert_eq!(before(), snapshot, "refused requests change nothing");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_is_unimplemented_unless_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _client) = serve(&config(dir.path())).await;
    let mut otlp = otlp_client(&running).await;
    let status = export(&mut otlp, request(vec![gauge("level", vec![int(T0, 1, vec![])])])).await.expect_err("off");
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert!(running.db().tables().is_empty());
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auth_export_needs_write_on_every_table_it_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = otlp_config(dir.path());
    config.auth.enabled = true;
    config.auth.tokens = vec![
        token("reader", "secret-reader", "*", Permission::Read),
        token("level-writer", "secret-writer", "level", Permission::Write),
    ];
    let running = isobar::server::start(&config).await.expect("starts");
    let channel = Channel::from_shared(running.url()).expect("url").connect().await.expect("connects");
    let with = |secret: Option<&'static str>| {
        MetricsServiceClient::with_interceptor(channel.clone(), move |mut r: tonic::Request<()>| {
            if let Some(s) = secret {
                r.metadata_mut().insert("authorization", format!("Bearer {s}").parse().expect("ascii"));
            }
            Ok(r)
        })
    };
    let level = || request(vec![gauge("level", vec![int(T0, 1, vec![])])]);
    let status = with(None).export(level()).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = with(Some("secret-reader")).export(level()).await.expect_err("reader");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("\"level\"") && status.message().contains("add permission"), "{status:?}");
    // One forbidden table refuses the whole request before anything is created or written.
    let two = request(vec![gauge("level", vec![int(T0, 1, vec![])]), gauge("other", vec![int(T0, 1, vec![])])]);
    let status = with(Some("secret-writer")).export(two).await.expect_err("other table");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("\"other\""), "{status:?}");
    assert!(running.db().tables().is_empty(), "a refused request creates no table");
    with(Some("secret-writer")).export(level()).await.expect("the writer of level");
    let tables: Vec<String> = running.db().tables().iter().map(|t| t.name.clone()).collect();
    assert_eq!(tables, ["level"]);
    running.stop().await.expect("stops");
}
