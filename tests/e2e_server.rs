//! End to end: a real server on a loopback port, driven through the generated Rust client.
//! Create, write (unary, row form, streaming), scan, admin, shutdown and restart with data intact.

mod common;

use common::*;
use isobar_proto::v1 as pb;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_scan_admin_then_restart_keeps_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let (running, mut client) = serve(&config).await;
    create_weather(&mut client).await;

    // Unary columnar write.
    let request = one_batch(
        "weather",
        "station=A",
        vec![T0, T0 + S, T0 + 2 * S],
        vec![f64_column("temp", vec![1.5, 2.5, 3.5]), i64_column("code", vec![7, 8, 9])],
    );
    let ack = client.ingest.write(request).await.expect("write").into_inner();
    assert_eq!((ack.rows, ack.points, ack.series, ack.messages), (3, 6, 1, 1));
    assert_eq!(ack.durability, pb::Durability::Synced as i32);

    // Row form.
    let row = pb::Row {
        table: "weather".into(),
        series: "station=B".into(),
        ts: T0,
        cells: vec![pb::Cell {
            family: "env".into(),
            column: "temp".into(),
            value: Some(pb::cell::Value::F64Value(-4.0)),
            null: false,
        }],
    };
    let ack_rows = client.ingest.write(pb::WriteRequest { rows: vec![row], ..Default::default() }).await.expect("rows");
    assert!(ack_rows.get_ref().sequence > ack.sequence);

    // Client streaming: three messages, each atomic, one acknowledgement.
    let messages: Vec<pb::WriteRequest> = (0..3)
        .map(|i| one_batch("weather", "station=C", vec![T0 + i * S], vec![f64_column("temp", vec![10.0 + i as f64])]))
        .collect();
    let stream_ack = client.ingest.write_stream(tokio_stream::iter(messages)).await.expect("stream").into_inner();
    assert_eq!((stream_ack.messages, stream_ack.rows, stream_ack.series), (3, 3, 1));

    let expected = vec![
        ("station=A".to_owned(), T0, Some(1.5)),
        ("station=A".to_owned(), T0 + S, Some(2.5)),
        ("station=A".to_owned(), T0 + 2 * S, Some(3.5)),
        ("station=B".to_owned(), T0, Some(-4.0)),
        ("station=C".to_owned(), T0, Some(10.0)),
        ("station=C".to_owned(), T0 + S, Some(11.0)),
        ("station=C".to_owned(), T0 + 2 * S, Some(12.0)),
    ];
    let batches = scan_all(&mut client, "weather", &["env.temp", "env.code"]).await;
    assert_eq!(rows_f64(&batches, "env.temp"), expected);
    assert_eq!(values_i64(&batches, "env.code"), [Some(7), Some(8), Some(9), None, None, None, None]);

    // Newest row per series, small batches, a time range.
    let request = pb::ScanRequest {
        table: "weather".into(),
        selector: all(),
        range: Some(pb::TimeRange { from_ns: Some(T0), to_ns: Some(T0 + 2 * S) }),
        columns: vec!["env.*".into()],
        limit_per_series: 1,
        order: pb::Order::Desc.into(),
        batch_rows: 1,
        ..Default::default()
    };
    let stream = client.query.scan(request).await.expect("scan").into_inner();
    let (schema, batches) = isobar::client::collect(stream).await.expect("answer");
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["series", "ts", "env.temp", "env.code"]);
    assert_eq!(
        rows_f64(&batches, "env.temp"),
        [
            ("station=A".to_owned(), T0 + S, Some(2.5)),
            ("station=B".to_owned(), T0, Some(-4.0)),
            ("station=C".to_owned(), T0 + S, Some(11.0))
        ]
    );

    // Admin: list, describe, alter, stats, flush, delete.
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.expect("list").into_inner().tables;
    assert_eq!(tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["weather"]);
    let alter = pb::AlterTableRequest {
        table: "weather".into(),
        actions: vec![pb::AlterTableAction {
            action: Some(pb::alter_table_action::Action::AddColumns(pb::AddColumns {
                family: "env".into(),
                columns: vec![pb::ColumnSpec { name: "rh".into(), r#type: pb::ColumnType::F64.into() }],
            })),
        }],
    };
    let altered = client.admin.alter_table(alter).await.expect("alter").into_inner().table.expect("table");
    assert_eq!(altered.families[0].columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["temp", "code", "rh"]);
    let described = client
        .admin
        .describe_table(pb::DescribeTableRequest { table: "weather".into() })
        .await
        .expect("describe")
        .into_inner()
        .table
        .expect("table");
    assert_eq!(described, altered);
    let flushed = client.admin.flush(pb::FlushRequest { table: String::new() }).await.expect("flush").into_inner();
    assert!(flushed.files_written >= 1 && flushed.bytes_written > 0, "{flushed:?}");
    let stats = client.admin.stats(pb::StatsRequest { table: "weather".into() }).await.expect("stats").into_inner();
    let env = &stats.tables[0].families[0];
    assert_eq!((env.family.as_str(), env.series, env.rows), ("env", 3, 7));
    // Points from the files' chunk statistics (A: 3 temp + 3 code, B: 1, C: 3) and the time span.
    assert_eq!((env.points, env.min_ts, env.max_ts), (10, Some(T0), Some(T0 + 2 * S)));
    assert!(env.files >= 1 && env.bytes > 0);
    let delete = pb::DeleteRequest {
        table: "weather".into(),
        selector: exact("station=B"),
        range: Some(pb::TimeRange { from_ns: Some(i64::MIN), to_ns: Some(i64::MAX) }),
        family: None,
    };
    client.admin.delete(delete).await.expect("delete");
    let after_delete = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    let without_b: Vec<_> = expected.iter().filter(|r| r.0 != "station=B").cloned().collect();
    assert_eq!(after_delete, without_b);

    // Graceful stop, then a new server on the same directory sees everything.
    running.stop().await.expect("clean stop");
    let (running, mut client) = serve(&config).await;
    let batches = scan_all(&mut client, "weather", &["env.temp"]).await;
    assert_eq!(rows_f64(&batches, "env.temp"), without_b);
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.expect("list").into_inner().tables;
    assert_eq!(tables[0].families[0].columns.len(), 3, "the altered schema survives");
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unflushed_writes_survive_a_restart_through_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let (running, mut client) = serve(&config).await;
    create_weather(&mut client).await;
    let ts: Vec<i64> = (0..1000).map(|i| T0 + i * S).collect();
    let temps: Vec<f64> = (0..1000).map(|i| i as f64 / 4.0).collect();
    let request = one_batch("weather", "station=W", ts.clone(), vec![f64_column("temp", temps.clone())]);
    client.ingest.write(request).await.expect("write");
    running.stop().await.expect("clean stop");

    let (running, mut client) = serve(&config).await;
    let got = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    let want: Vec<_> = ts.iter().zip(&temps).map(|(t, v)| ("station=W".to_owned(), *t, Some(*v))).collect();
    assert_eq!(got, want);
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_serving_and_reflection_lists_the_services() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _client) = serve(&config(dir.path())).await;
    let channel =
        tonic::transport::Endpoint::from_shared(running.url()).expect("url").connect().await.expect("connect");
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "isobar.v1.Ingest", "isobar.v1.Query", "isobar.v1.Admin"] {
        let status = health.check(HealthCheckRequest { service: service.into() }).await.expect("check").into_inner();
        assert_eq!(status.status, ServingStatus::Serving as i32, "service {service:?}");
    }
    let unknown = health.check(HealthCheckRequest { service: "nope.Service".into() }).await.expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers =
        reflection.server_reflection_info(tokio_stream::iter([request])).await.expect("reflect").into_inner();
    let answer = answers.message().await.expect("answer").expect("one message");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else { panic!("{answer:?}") };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for want in ["isobar.v1.Ingest", "isobar.v1.Query", "isobar.v1.Admin", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stream_cut_by_the_client_keeps_only_whole_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut ingest = client.ingest.clone();
    let call = tokio::spawn(async move { ingest.write_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await });
    tx.send(one_batch("weather", "station=S", vec![T0], vec![f64_column("temp", vec![1.0])])).await.expect("send");
    // Wait until the first message is applied, then cut the call.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while row_count(&scan_all(&mut client, "weather", &["env.temp"]).await) == 0 {
        assert!(std::time::Instant::now() < deadline, "first message never applied");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    call.abort();
    let _ = call.await;
    drop(tx);
    let rows = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(rows, [("station=S".to_owned(), T0, Some(1.0))]);
    // The server is still fine.
    let ack = client
        .ingest
        .write(one_batch("weather", "station=S", vec![T0 + S], vec![f64_column("temp", vec![2.0])]))
        .await
        .expect("write after a cut stream");
    assert_eq!(ack.get_ref().rows, 1);
    running.stop().await.expect("clean stop");
}
