//! A client that opens a large scan and stops reading does not make the server buffer the
//! result: HTTP/2 flow control stops the sender, the scan's bounded channel stops the producer
//! (`src/server/scan.rs`), and the server's resident set stays far below the size of the
//! result while other clients keep being served. When the stalled client reads again it gets
//! the whole answer.
//!
//! Runs the real server binary so that its RSS (from `/proc/<pid>/status`) is the server's alone.

use std::path::Path;
use std::time::Duration;

use isobar_proto::v1 as pb;
use isobar_reliability::process::{ServerProcess, spec};
use isobar_reliability::wire::{self, Clients};
use pb::series_selector::Selector;

/// Rows written (1,000 series of 60); each carries a 2 KiB string, so a full scan answers about
/// 120 MiB.
const ROWS: usize = 60_000;
const STRING_BYTES: usize = 2048;
/// Rows per batch of the scans (about 128 KiB of strings).
const BATCH_ROWS: u32 = 64;
/// Most the server's RSS may grow while the client stalls: the scan's read-ahead (a group of up
/// to 32 whole series, about 4 MiB here), the channel (3 batches), the batch being built, a
/// decoded page (256 rows), HTTP/2 send buffers and the 8 MiB block cache need some MiB; the
/// whole result would need 120.
const STALL_GROWTH_KIB: u64 = 40 << 10;

fn table() -> pb::TableSpec {
    pb::TableSpec {
        name: "big".into(),
        families: vec![pb::FamilySpec {
            name: "b".into(),
            columns: vec![pb::ColumnSpec { name: "s".into(), r#type: pb::ColumnType::String.into() }],
            ttl_ns: None,
        }],
        dynamic_columns: false,
        ttl_ns: None,
    }
}

fn text(i: usize) -> String {
    let mut s = format!("{i:08}-");
    while s.len() < STRING_BYTES {
        s.push(char::from(b'a' + ((i + s.len()) % 26) as u8));
    }
    s
}

fn scan() -> pb::ScanRequest {
    pb::ScanRequest {
        table: "big".into(),
        selector: Some(pb::SeriesSelector { selector: Some(Selector::All(pb::AllSeries {})) }),
        batch_rows: BATCH_ROWS,
        ..Default::default()
    }
}

/// Reads a scan answer to the end; returns its rows.
async fn drain(mut stream: tonic::Streaming<pb::ArrowBatch>) -> u64 {
    let mut rows = 0;
    while let Some(m) = stream.message().await.expect("scan message") {
        rows += m.rows;
    }
    rows
}

async fn load(clients: &mut Clients) {
    clients
        .admin
        .create_table(pb::CreateTableRequest { table: Some(table()), if_not_exists: false })
        .await
        .expect("table");
    for chunk in 0..ROWS / 600 {
        // Ten series of 60 rows per request: 1,000 series in all, so that the scan's read-ahead
        // (a group of series) is a small part of the answer.
        let batches = (0..10)
            .map(|k| {
                let first = chunk * 600 + k * 60;
                pb::SeriesBatch {
                    table: "big".into(),
                    series: format!("s{:04}", first / 60),
                    ts: (first..first + 60).map(|i| i as i64 * 1_000_000_000).collect(),
                    columns: vec![pb::Column {
                        family: "b".into(),
                        name: "s".into(),
                        values: Some(pb::column::Values::StringValues(pb::StringValues {
                            values: (first..first + 60).map(text).collect(),
                        })),
                        validity: Vec::new(),
                        nulls: Vec::new(),
                    }],
                }
            })
            .collect();
        clients.ingest.write(pb::WriteRequest { batches, ..Default::default() }).await.expect("write");
    }
    clients.admin.flush(pb::FlushRequest { table: String::new() }).await.expect("flush");
    // Compact now, so that no background compaction runs (and allocates) during the measurement.
    clients.admin.compact(pb::CompactRequest { table: "big".into(), ..Default::default() }).await.expect("compact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_scan_holds_no_more_than_a_few_batches() {
    let dir = tempfile::tempdir().expect("dir");
    let server_spec = spec(
        Path::new(env!("CARGO_BIN_EXE_isobar")),
        &dir.path().join("data"),
        &dir.path().join("server.log"),
        &[
            ("ISOBAR_STORAGE_SYNC", "none"),
            ("ISOBAR_STORAGE_ROWS_PER_PAGE", "256"),
            ("ISOBAR_STORAGE_BLOCK_CACHE_SIZE", "8MiB"),
        ],
    );
    let server = ServerProcess::start(&server_spec).await.expect("server starts");
    let mut other = Clients::connect(&server.url()).await.expect("client");
    load(&mut other).await;
    // Warm up: one full scan read to the end, so allocator and cache are at their steady size.
    let rows = drain(other.query.scan(scan()).await.expect("scan").into_inner()).await;
    assert_eq!(rows, ROWS as u64);
    let before = server.rss_kib();

    // The slow client, on its own connection: reads the schema and one batch, then stalls.
    let mut slow = Clients::connect(&server.url()).await.expect("client");
    let mut stalled = slow.query.scan(scan()).await.expect("scan").into_inner();
    let mut slow_rows = 0;
    for _ in 0..2 {
        slow_rows += stalled.message().await.expect("message").expect("not ended").rows;
    }

    // The stall alone: the producer fills what flow control and the channel allow, then waits.
    let mut alone = vec![server.rss_kib()];
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        alone.push(server.rss_kib());
    }
    println!("slow client: RSS while stalled alone {:?}", alone);

    // Meanwhile another client is served in full: a whole scan, a write and its read-back.
    let rows = drain(other.query.scan(scan()).await.expect("scan").into_inner()).await;
    assert_eq!(rows, ROWS as u64, "another client's scan completes while one client stalls");
    println!("slow client: RSS after the other scan {}", server.rss_kib());
    let mut samples = alone;
    samples.push(server.rss_kib());
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples.push(server.rss_kib());
    }
    let request = pb::LatestRequest { table: "big".into(), selector: scan().selector, ..Default::default() };
    let latest = wire::collect(other.query.latest(request).await.expect("latest").into_inner()).await.expect("answer");
    assert_eq!(latest.iter().map(|b| b.num_rows()).sum::<usize>(), ROWS / 60, "latest of every series");

    let grown = samples.iter().max().copied().unwrap_or(0).saturating_sub(before);
    println!("slow client: server RSS {before} KiB before the stall, grew by at most {grown} KiB while stalled");
    assert!(
        grown <= STALL_GROWTH_KIB,
        "the server's RSS grew by {grown} KiB while a client stalled (bound {STALL_GROWTH_KIB} KiB; the result is ~{} KiB)",
        ROWS * STRING_BYTES / 1024
    );

    // The stalled client reads on and gets every row.
    slow_rows += drain(stalled).await;
    assert_eq!(slow_rows, ROWS as u64, "the stalled scan completes when read again");
    server.stop().await.expect("clean stop");
}
