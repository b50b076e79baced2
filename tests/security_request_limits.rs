//! Issue 20, finding 7: distinct series and cells per write request are limited
//! (`storage.max_series_per_request`, `storage.max_cells_per_request`) on gRPC `Write` and
//! `WriteStream`, line protocol and OTLP. A request past either is refused with
//! `RESOURCE_EXHAUSTED` (HTTP 413) naming the limit's key, and writes nothing. Real server on
//! loopback, with small limits so that small requests cross them.

mod common;

use std::net::SocketAddr;

use common::*;
use isobar_proto::v1 as pb;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const SERIES_KEY: &str = "storage.max_series_per_request";
const CELLS_KEY: &str = "storage.max_cells_per_request";

/// At most 10 series and 50 cells per request; line protocol and OTLP on.
fn limited(dir: &std::path::Path) -> isobar::config::Config {
    let mut config = config(dir);
    config.storage.max_series_per_request = 10;
    config.storage.max_cells_per_request = 50;
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config.otlp.enabled = true;
    config
}

/// One `weather` row per series `s0..s<n>` with `cells` f64 cells each (`temp` and `code` alternate
/// would clash in type, so every cell is `temp` at another timestamp).
fn rows(series: usize, cells_each: usize) -> pb::WriteRequest {
    let rows = (0..series)
        .flat_map(|s| {
            (0..cells_each).map(move |t| pb::Row {
                table: "weather".into(),
                series: format!("s{s}"),
                ts: 1_700_000_000_000_000_000 + t as i64,
                cells: vec![pb::Cell {
                    family: "env".into(),
                    column: "temp".into(),
                    value: Some(pb::cell::Value::F64Value(1.0)),
                    null: false,
                }],
            })
        })
        .collect();
    pb::WriteRequest { rows, ..Default::default() }
}

async fn post_lines(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v2/write HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body.as_bytes()).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status"), body.to_owned())
}

/// One gauge of `metric` with a point per series `room=r0..r<n>`.
fn gauge(metric: &str, series: usize) -> ExportMetricsServiceRequest {
    let points = (0..series)
        .map(|i| NumberDataPoint {
            attributes: vec![KeyValue {
                key: "room".into(),
                value: Some(AnyValue { value: Some(any_value::Value::StringValue(format!("r{i}"))) }),
            }],
            time_unix_nano: 1_700_000_000_000_000_000,
            value: Some(number_data_point::Value::AsDouble(1.0)),
            ..Default::default()
        })
        .collect();
    let metric = Metric {
        name: metric.into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: points })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics { metrics: vec![metric], ..Default::default() }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_writes_past_the_series_or_cell_limit_are_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&limited(dir.path())).await;
    create_weather(&mut client).await;

    let status = client.ingest.write(rows(11, 1)).await.expect_err("11 series");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(SERIES_KEY), "{}", status.message());
    let status = client.ingest.write(rows(10, 6)).await.expect_err("60 cells");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(CELLS_KEY), "{}", status.message());
    assert_eq!(running.db().stats().points_written, 0, "refused requests wrote nothing");

    // At the limits: written.
    client.ingest.write(rows(10, 5)).await.expect("10 series, 50 cells");
    assert_eq!(running.db().stats().points_written, 50);

    // WriteStream: the message past the limit fails the call; the one before it is written.
    let messages = vec![rows(1, 1), rows(11, 1)];
    let status = client.ingest.write_stream(tokio_stream::iter(messages)).await.expect_err("second refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("message 1") && status.message().contains(SERIES_KEY), "{}", status.message());
    assert_eq!(running.db().stats().points_written, 51);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_protocol_and_otlp_past_the_limits_are_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = isobar::server::start(&limited(dir.path())).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");

    let eleven: String = (0..11).map(|i| format!("lp,site=s{i} v=1 1\n")).collect();
    let (status, answer) = post_lines(addr, &eleven).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains(SERIES_KEY), "{answer}");
    let wide: String = (0..6).map(|i| format!("lp,site=s{i} {}\n", fields(10))).collect();
    let (status, answer) = post_lines(addr, &wide).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains(CELLS_KEY), "{answer}");
    assert!(running.db().table_def("lp").is_err(), "refused requests created nothing");
    let (status, answer) = post_lines(addr, &eleven.replace("site=s10", "site=s9")).await;
    assert_eq!(status, 204, "10 series fit: {answer}");

    let mut otlp = MetricsServiceClient::connect(running.url()).await.expect("connects");
    let status = otlp.export(gauge("room.temp", 11)).await.expect_err("11 series");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(SERIES_KEY), "{}", status.message());
    assert!(running.db().table_def("room_temp").is_err(), "the refused request created nothing");
    otlp.export(gauge("room.temp", 10)).await.expect("10 series fit");
    running.stop().await.expect("stops");
}

/// `f0=1,f1=1,...` with `n` fields.
fn fields(n: usize) -> String {
    (0..n).map(|i| format!("f{i}=1")).collect::<Vec<_>>().join(",")
}
