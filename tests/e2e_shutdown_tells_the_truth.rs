//! SIGTERM tells running calls the truth and leaves little to replay: a health `Watch` stream and
//! a scan stream still running when the server is told to stop end with `UNAVAILABLE: server
//! shutting down` (not a bare transport error), the memtables are flushed before the close (the
//! data directory has SSTables afterwards; before it had none), the last log line says the server
//! stopped, and the process exits 0. After a restart every row is there.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{create_weather, f64_column, one_batch, row_count, scan_all};
use isobar::client::Client;
use isobar_proto::v1 as pb;
use isobar_testkit::server::ServerCommand;
use tonic::Code;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const SERIES: i64 = 20;
const ROWS: i64 = 10_000;

/// SSTable files under `data/sst`.
fn sst_count(data: &Path) -> usize {
    std::fs::read_dir(data.join("sst"))
        .map_or(0, |d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".sst")).count())
}

/// Reads `stream` to its end; returns the status it ended with (`Ok` for a clean end).
async fn drain<T>(stream: &mut tonic::Streaming<T>) -> Result<usize, tonic::Status> {
    let mut n = 0;
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => n += 1,
                Ok(None) => return Ok(n),
                Err(status) => return Err(status),
            }
        }
    })
    .await;
    ended.expect("the stream ends within 60 s of SIGTERM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_streams_with_unavailable_flushes_and_exits_zero() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("db");
    let log = tmp.path().join("server.log");
    let server = ServerCommand::new(BIN, &data)
        .env("ISOBAR_LOG_LEVEL", "info")
        .log_file(&log)
        .start_async()
        .await
        .expect("serve starts");
    let url = server.url();
    let mut client = Client::connect(&url).await.expect("client connects");
    create_weather(&mut client).await;
    for s in 0..SERIES {
        let ts: Vec<i64> = (0..ROWS).collect();
        let values: Vec<f64> = ts.iter().map(|t| (t % 101) as f64).collect();
        let request = one_batch("weather", &format!("station{s:02}"), ts, vec![f64_column("temp", values)]);
        client.ingest.write(request).await.expect("write");
    }
    assert_eq!(sst_count(&data), 0, "everything is still in the memtables");

    // Two long calls: a health Watch (never ends by itself) and a scan the client stops reading.
    let channel = tonic::transport::Endpoint::from_shared(url.clone()).expect("url").connect().await.expect("connects");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut watch = health
        .watch(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .expect("watch")
        .into_inner();
    watch.message().await.expect("first status").expect("a status");
    let request = pb::ScanRequest {
        table: "weather".into(),
        selector: common::all(),
        columns: vec!["env.temp".into()],
        ..Default::default()
    };
    let mut scan = client.query.scan(request).await.expect("scan starts").into_inner();
    scan.message().await.expect("first batch").expect("a batch");

    server.terminate().expect("SIGTERM");
    let watched = drain(&mut watch).await;
    let status = watched.expect_err("the Watch stream is cancelled, not ended cleanly");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().starts_with("server shutting down"), "{status:?}");
    let scanned = drain(&mut scan).await;
    let status = scanned.expect_err("the scan still streaming is cancelled with a status");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("server shutting down"), "{status:?}");
    drop((watch, scan, health, client));

    let mut server = server;
    let exited = tokio::task::spawn_blocking(move || server.wait()).await.expect("joined").expect("waits");
    assert!(exited.success(), "a clean shutdown exits 0: {exited}");
    assert!(sst_count(&data) > 0, "SIGTERM flushed the memtables");
    let text = std::fs::read_to_string(&log).expect("server log");
    assert!(text.contains("memtables flushed before closing"), "{text}");
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(last.contains("database closed; server stopped"), "the last line says so: {last}");

    let server = ServerCommand::new(BIN, &data).start_async().await.expect("restarts");
    let mut client = Client::connect(&server.url()).await.expect("client connects");
    let rows = row_count(&scan_all(&mut client, "weather", &["env.temp"]).await);
    assert_eq!(rows as i64, SERIES * ROWS);
    drop(client);
    let status = server.stop_async(Duration::from_secs(60)).await.expect("stops");
    assert!(status.success(), "{status}");
}
