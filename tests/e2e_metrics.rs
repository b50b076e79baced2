//! The Prometheus endpoint over real gRPC and real HTTP on loopback: counters move by exactly
//! what was written, flushed and refused; the Grafana dashboard only queries metric names the
//! server really exports.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use common::{config, create_weather, f64_column, i64_column, one_batch, serve};
use isobar_proto::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A parsed `/metrics` answer.
struct Scrape {
    /// `name{labels}` as written -> value.
    samples: BTreeMap<String, f64>,
    /// Declared families -> type.
    types: BTreeMap<String, String>,
}

impl Scrape {
    /// The value of `series` (exact text, labels in the server's order); 0 when absent.
    fn get(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }
}

/// `GET path` over a fresh HTTP/1.1 connection; returns status line, headers and body.
async fn http_get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects to the metrics port");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("answer within 30 s")
        .expect("reads");
    let text = String::from_utf8(raw).expect("utf-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_ascii_lowercase(), body.to_string())
}

async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, headers, body) = http_get(addr, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    assert!(headers.contains("content-type: text/plain; version=0.0.4"), "{headers}");
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            types.insert(name.to_string(), kind.to_string());
        } else if !line.starts_with('#') {
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            samples.insert(series.to_string(), value.parse::<f64>().expect("numeric value"));
        }
    }
    Scrape { samples, types }
}

const WRITE_OK: &str = r#"isobar_grpc_requests_total{rpc="isobar.v1.Ingest/Write",code="OK"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_what_was_written_flushed_and_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Per-table series (asserted below) need metrics.table_labels; off by default (issue 20).
    let mut with_tables = config(dir.path());
    with_tables.metrics.table_labels = true;
    let (running, mut client) = serve(&with_tables).await;
    let addr = running.metrics_addr().expect("metrics are on by default");
    assert_ne!(addr.port(), 0, "the bound port is reported");
    create_weather(&mut client).await;

    let (status, _, body) = http_get(addr, "/").await;
    assert!(status.contains(" 200 ") && body.contains("/metrics"), "{status} {body}");
    let (status, _, _) = http_get(addr, "/nope").await;
    assert!(status.contains(" 404 "), "{status}");

    let before = scrape(addr).await;
    // K requests of 25 rows x 2 columns each: N = K * 50 points.
    const K: usize = 4;
    const ROWS: usize = 25;
    for k in 0..K {
        let ts: Vec<i64> = (0..ROWS as i64).map(|i| 1_700_000_000_000_000_000 + (k * ROWS) as i64 + i).collect();
        let columns = vec![f64_column("temp", vec![1.5; ROWS]), i64_column("code", vec![7; ROWS])];
        client.ingest.write(one_batch("weather", &format!("station_{k}"), ts, columns)).await.expect("write");
    }
    let written = scrape(addr).await;
    let delta = |name: &str| written.get(name) - before.get(name);
    assert_eq!(delta("isobar_ingest_points_total"), (K * ROWS * 2) as f64);
    assert_eq!(delta("isobar_ingest_rows_total"), (K * ROWS) as f64);
    assert_eq!(delta("isobar_write_batches_total"), K as f64);
    assert_eq!(delta("isobar_wal_appends_total"), K as f64);
    assert!(delta("isobar_ingest_bytes_total") >= (K * ROWS * 16) as f64, "8 bytes per value at least");
    assert_eq!(delta(WRITE_OK), K as f64);
    let write_latency = r#"isobar_grpc_request_duration_seconds_count{rpc="isobar.v1.Ingest/Write"}"#;
    assert_eq!(delta(write_latency), K as f64);
    assert!(written.get("isobar_wal_sync_duration_seconds_count") >= K as f64, "sync = always: a sync per write");
    assert_eq!(written.get(r#"isobar_open_series{table="weather",family="env"}"#), K as f64);
    assert!(written.get(r#"isobar_memtable_bytes{table="weather",family="env",state="active"}"#) > 0.0);

    client.admin.flush(pb::FlushRequest::default()).await.expect("flush");
    let flushed = scrape(addr).await;
    assert_eq!(flushed.get("isobar_flushes_total") - written.get("isobar_flushes_total"), 1.0, "one family had rows");
    assert!(flushed.get(r#"isobar_sstables{table="weather",family="env"}"#) > 0.0);
    assert!(flushed.get(r#"isobar_sstable_bytes{table="weather",family="env"}"#) > 0.0);
    assert_eq!(flushed.get(r#"isobar_sstables{table="weather",family="meta"}"#), 0.0, "meta was never written");
    assert_eq!(flushed.get(r#"isobar_open_series{table="weather",family="env"}"#), 0.0);
    let flush_ok = r#"isobar_grpc_requests_total{rpc="isobar.v1.Admin/Flush",code="OK"}"#;
    assert_eq!(flushed.get(flush_ok), 1.0);

    // A rejected write counts under its code and moves no ingest counter.
    let bad = one_batch("no_such_table", "s", vec![1], vec![f64_column("temp", vec![1.0])]);
    let status = client.ingest.write(bad).await.expect_err("unknown table is refused");
    assert_ne!(status.code(), tonic::Code::Ok);
    let code = isobar::metrics::CODE_NAMES[status.code() as usize];
    let refused = scrape(addr).await;
    let series = format!(r#"isobar_grpc_requests_total{{rpc="isobar.v1.Ingest/Write",code="{code}"}}"#);
    assert_eq!(refused.get(&series) - flushed.get(&series), 1.0, "{series}");
    assert_eq!(refused.get(WRITE_OK), flushed.get(WRITE_OK), "OK count unchanged");
    assert_eq!(refused.get("isobar_ingest_points_total"), flushed.get("isobar_ingest_points_total"));
    assert_eq!(refused.get("isobar_write_batches_total"), flushed.get("isobar_write_batches_total"));

    running.stop().await.expect("stops");
}

/// Every metric name in `expr`: identifiers with the `isobar_` prefix.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string && (c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            current.push(c);
        } else {
            if current.starts_with("isobar_") {
                names.push(current.clone());
            }
            current.clear();
        }
    }
    names
}

fn exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr" | "definition", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_queries_only_exported_metrics() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/isobar-dashboard.json"))
        .expect("dashboard exists");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let mut all = Vec::new();
    exprs(&dashboard, &mut all);
    assert!(all.len() >= 12, "one query per panel at least: {}", all.len());

    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _client) = serve(&config(dir.path())).await;
    let exported = scrape(running.metrics_addr().expect("metrics on")).await.types;
    let mut used = BTreeSet::new();
    for expr in &all {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "query names no isobar metric: {expr}");
        for name in names {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| exported.get(*f).is_some_and(|t| t == "histogram")))
                .unwrap_or(&name);
            assert!(exported.contains_key(family), "the dashboard queries {name}, which the server does not export");
            used.insert(family.to_string());
        }
    }
    for wanted in [
        "isobar_ingest_points_total",
        "isobar_grpc_request_duration_seconds",
        "isobar_wal_sync_duration_seconds",
        "isobar_memtable_budget_bytes",
        "isobar_write_amplification",
        "isobar_block_cache_hits_total",
        "isobar_open_series",
    ] {
        assert!(used.contains(wanted), "no panel shows {wanted}");
    }
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_turned_off_and_a_taken_port_fails_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut off = config(dir.path());
    off.metrics.enabled = false;
    let (running, _client) = serve(&off).await;
    assert_eq!(running.metrics_addr(), None);
    running.stop().await.expect("stops");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let mut clash = config(dir.path());
    clash.metrics.listen = taken.local_addr().expect("addr");
    let err = isobar::server::start(&clash).await.expect_err("the metrics port is taken");
    assert!(err.to_string().contains(&clash.metrics.listen.to_string()), "{err}");
    // The database was closed again: a new server opens it.
    let (running, _client) = serve(&config(dir.path())).await;
    running.stop().await.expect("stops");
}

/// `Flush` reports the SSTables it wrote (one per family and time window), and dropping
/// TTL-expired files reads nothing: it moves its own counters, not the merge byte counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_counts_files_and_expired_drops_count_apart_from_merges() {
    const DAY: i64 = 86_400_000_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    let addr = running.metrics_addr().expect("metrics are on by default");
    let mut spec = common::weather_spec();
    spec.name = "old".into();
    client
        .admin
        .create_table(pb::CreateTableRequest { table: Some(spec), if_not_exists: false })
        .await
        .expect("create");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as i64;
    // Four rows a day apart, long past the one-hour TTL: four daily windows in each family.
    let ts: Vec<i64> = (0..4).map(|d| now - (10 - d) * DAY).collect();
    client.ingest.write(one_batch("old", "s", ts.clone(), vec![f64_column("temp", vec![1.0; 4])])).await.expect("env");
    let note = pb::Column {
        family: "meta".into(),
        name: "note".into(),
        values: Some(pb::column::Values::StringValues(pb::StringValues { values: vec!["n".into(); 4] })),
        validity: Vec::new(),
        nulls: Vec::new(),
    };
    client.ingest.write(one_batch("old", "s", ts, vec![note])).await.expect("meta");
    // The one-hour TTL is set after the write: the server refuses a write whose rows are all
    // past the TTL already.
    let ttl = pb::AlterTableAction {
        action: Some(pb::alter_table_action::Action::SetTtl(pb::SetTtl {
            family: None,
            ttl_ns: Some(3_600_000_000_000),
        })),
    };
    client
        .admin
        .alter_table(pb::AlterTableRequest { table: "old".into(), actions: vec![ttl] })
        .await
        .expect("set the TTL");

    let flushed = client.admin.flush(pb::FlushRequest::default()).await.expect("flush").into_inner();
    assert_eq!(flushed.families_flushed, 2, "{flushed:?}");
    assert_eq!(flushed.files_written, 8, "four daily windows in each of two families: {flushed:?}");
    let after_flush = scrape(addr).await;
    assert_eq!(after_flush.get("isobar_flush_files_total"), 8.0);

    let compacted = client.admin.compact(pb::CompactRequest { table: "old".into(), ..Default::default() }).await;
    compacted.expect("compact");
    let scraped = scrape(addr).await;
    assert_eq!(scraped.get("isobar_expired_files_dropped_total"), 8.0, "every file was past the TTL");
    assert_eq!(scraped.get("isobar_expired_bytes_dropped_total"), after_flush.get("isobar_flush_bytes_total"));
    assert_eq!(scraped.get("isobar_compaction_read_bytes_total"), 0.0, "dropping a file reads nothing");
    assert_eq!(scraped.get("isobar_compactions_total"), 0.0, "no merge ran");
    assert_eq!(scraped.types.get("isobar_expired_files_dropped_total").map(String::as_str), Some("counter"));
    running.stop().await.expect("stops");
}
