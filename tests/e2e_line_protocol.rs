//! The InfluxDB line-protocol HTTP front end end to end: a real server on loopback ports, raw
//! HTTP/1.1 requests (what `curl` or Telegraf send), and the data read back through Isobar's own
//! scan.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use arrow_array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use isobar::config::{ByteSize, Config};
use isobar::http::Denied;
use isobar::server::{Running, start, start_with};
use isobar_storage::ScanRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A config with the line protocol on a port the OS chooses.
fn lp_config(dir: &std::path::Path) -> Config {
    let mut config = common::config(dir);
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config
}

/// An HTTP answer.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Sends one request (`Connection: close`) and reads the whole answer.
async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    Answer { status, head: head.to_owned(), body: body.to_owned() }
}

async fn post(running: &Running, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    request(running.line_protocol_addr().expect("line protocol enabled"), "POST", path, headers, body).await
}

fn scan(running: &Running, table: &str) -> Vec<RecordBatch> {
    running.db().scan(&ScanRequest::new(table)).expect("scan")
}

fn column<'a, T: 'static>(batches: &'a [RecordBatch], name: &str) -> &'a T {
    assert_eq!(batches.len(), 1, "one batch");
    batches[0]
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .expect("type")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_write_with_precision_and_probes() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&lp_config(data.path())).await.expect("starts");
    let addr = running.line_protocol_addr().expect("bound");
    let ping = request(addr, "GET", "/ping", &[], b"").await;
    assert_eq!(ping.status, 204);
    assert!(ping.head.to_ascii_lowercase().contains("x-influxdb-version: isobar-"), "{}", ping.head);
    let health = request(addr, "GET", "/health", &[], b"").await;
    assert_eq!(health.status, 200);
    assert!(health.body.contains("\"status\":\"pass\""), "{}", health.body);

    let body = b"cpu,host=a,dc=x usage=0.5,cores=8i,ok=true,model=\"x 86\" 1700000000\n\
                 cpu,dc=x,host=a usage=0.75 1700000010\n\
                 cpu,host=b usage=0.25 1700000000\n";
    // A token in the URL is refused by default (line_protocol.allow_token_in_url), so this v1
    // write sends only the user name, which is ignored.
    let answer = post(&running, "/write?db=telegraf&precision=s&u=me", &[], body).await;
    assert_eq!(answer.status, 204, "{}", answer.body);

    let batches = scan(&running, "cpu");
    let series: &StringArray = column(&batches, "series");
    let got: Vec<&str> = (0..series.len()).map(|i| series.value(i)).collect();
    assert_eq!(got, vec!["dc=x,host=a", "dc=x,host=a", "host=b"]);
    let ts: &arrow_array::TimestampNanosecondArray = column(&batches, "ts");
    assert_eq!(
        ts.values().to_vec(),
        vec![1_700_000_000_000_000_000, 1_700_000_010_000_000_000, 1_700_000_000_000_000_000]
    );
    let usage: &arrow_array::Float64Array = column(&batches, "fields.usage");
    assert_eq!(usage.values().to_vec(), vec![0.5, 0.75, 0.25]);
    let cores: &Int64Array = column(&batches, "fields.cores");
    assert_eq!((cores.value(0), cores.is_null(1), cores.is_null(2)), (8, true, true));
    let ok: &BooleanArray = column(&batches, "fields.ok");
    assert!(ok.value(0));
    let model: &StringArray = column(&batches, "fields.model");
    assert_eq!(model.value(0), "x 86");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_rejects_the_whole_request_naming_the_line() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&lp_config(data.path())).await.expect("starts");
    let body = b"m,s=a v=1 1\nm,s=a v=2 2\nm,s=a v=oops 3\n";
    let answer = post(&running, "/api/v2/write?org=o&bucket=b", &[], body).await;
    assert_eq!(answer.status, 400);
    assert!(answer.head.to_ascii_lowercase().contains("content-type: application/json"), "{}", answer.head);
    let json: serde_json::Value = serde_json::from_str(&answer.body).expect("json body");
    assert_eq!(json["code"], "invalid");
    let message = json["message"].as_str().expect("message");
    assert!(message.starts_with("line 3: field \"v\": cannot parse \"oops\""), "{message}");
    // Nothing of it was applied, not even the table.
    assert!(running.db().table_def("m").is_err(), "the table was not created");

    // A type conflict with an existing column is refused the same way.
    assert_eq!(post(&running, "/api/v2/write", &[], b"m,s=a v=1 1\n").await.status, 204);
    let answer = post(&running, "/api/v2/write", &[], b"m,s=a v=5 5\nm,s=b v=2i 2\n").await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.contains("line 2: field \\\"v\\\" of measurement \\\"m\\\" is i64 here but f64"),
        "{}",
        answer.body
    );
    assert_eq!(scan(&running, "m")[0].num_rows(), 1, "only the first request's row");

    let answer = post(&running, "/api/v2/write?precision=h", &[], b"m v=1 1\n").await;
    assert_eq!((answer.status, answer.body.contains("precision")), (400, true), "{}", answer.body);
    running.stop().await.expect("stops");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("compress")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_and_size_limits() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = lp_config(data.path());
    config.line_protocol.max_body_bytes = ByteSize(4096);
    let running = start(&config).await.expect("starts");
    let lines: String = (0..50).map(|i| format!("g,s=x v={i}i {}\n", 1000 + i)).collect();
    let headers = [("Content-Encoding", "gzip"), ("Authorization", "Token t")];
    let answer = post(&running, "/api/v2/write?bucket=b&precision=ms", &headers, &gzip(lines.as_bytes())).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    let batches = scan(&running, "g");
    let v: &Int64Array = column(&batches, "fields.v");
    assert_eq!(v.values().to_vec(), (0..50).collect::<Vec<i64>>());
    let ts: &arrow_array::TimestampNanosecondArray = column(&batches, "ts");
    assert_eq!(ts.value(0), 1_000_000_000, "ms precision");

    // Too large as sent, and too large once decompressed (a small gzip of a big body).
    let big = "g,s=y v=1i 1\n".repeat(400);
    let answer = post(&running, "/api/v2/write", &[], big.as_bytes()).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(answer.body.contains("request too large"), "{}", answer.body);
    let compressed = gzip(big.as_bytes());
    assert!(compressed.len() < 4096);
    let answer = post(&running, "/api/v2/write", &[("Content-Encoding", "gzip")], &compressed).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    let answer = post(&running, "/api/v2/write", &[("Content-Encoding", "gzip")], b"not gzip").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(scan(&running, "g")[0].num_rows(), 50, "the refused requests wrote nothing");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorizer_sees_the_token_and_the_tables() {
    let data = tempfile::tempdir().expect("tempdir");
    let authorizer = |token: Option<&str>, tables: &[&str]| match token {
        None => Err(Denied::Unauthenticated("no token".into())),
        Some("writer") if tables.iter().all(|t| *t == "allowed") => Ok(()),
        Some(_) => Err(Denied::Forbidden(format!("may not write {tables:?}"))),
    };
    let mut config = lp_config(data.path());
    config.line_protocol.allow_token_in_url = true;
    let running = start_with(&config, Arc::new(authorizer)).await.expect("starts");
    assert_eq!(post(&running, "/api/v2/write", &[], b"allowed v=1 1\n").await.status, 401);
    let bearer = [("Authorization", "Bearer writer")];
    assert_eq!(post(&running, "/api/v2/write", &bearer, b"allowed v=1 1\nother v=1 1\n").await.status, 403);
    assert!(running.db().table_def("other").is_err(), "a denied request creates nothing");
    assert_eq!(post(&running, "/write?p=writer", &[], b"allowed v=1 1\n").await.status, 204);
    assert_eq!(
        post(&running, "/api/v2/write", &[("Authorization", "Token writer")], b"allowed v=2 2\n").await.status,
        204
    );
    assert_eq!(scan(&running, "allowed")[0].num_rows(), 2);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auth_on_line_protocol_writes_need_a_token_with_write_permission() {
    use isobar::auth::{Permission, hash_secret};
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = lp_config(data.path());
    config.auth.enabled = true;
    config.line_protocol.allow_token_in_url = true;
    let token = |name: &str, secret: &str, permission: Permission| isobar::config::TokenConfig {
        name: name.into(),
        sha256: hash_secret(secret),
        grants: [("*".to_owned(), vec![permission])].into_iter().collect(),
    };
    config.auth.tokens =
        vec![token("reader", "secret-r", Permission::Read), token("writer", "secret-w", Permission::Write)];
    let running = start(&config).await.expect("starts");
    let line = b"weather,station=A temp=1.5 1\n";
    let none = post(&running, "/api/v2/write", &[], line).await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(post(&running, "/api/v2/write", &[("Authorization", "Token wrong")], line).await.status, 401);
    let reader = post(&running, "/api/v2/write", &[("Authorization", "Token secret-r")], line).await;
    assert_eq!(reader.status, 403, "{}", reader.body);
    assert!(reader.body.contains("weather") && reader.body.contains("add permission"), "{}", reader.body);
    assert!(!reader.body.contains("secret-r"), "the secret is never echoed: {}", reader.body);
    assert!(running.db().table_def("weather").is_err(), "refused requests create nothing");
    assert_eq!(post(&running, "/write?u=x&p=secret-w", &[], line).await.status, 204);
    assert_eq!(scan(&running, "weather")[0].num_rows(), 1);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_by_default_and_the_port_stays_free() {
    assert!(!Config::default().line_protocol.enabled);
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(data.path());
    config.line_protocol.listen = free;
    let running = start(&config).await.expect("starts");
    assert_eq!(running.line_protocol_addr(), None);
    assert!(tokio::net::TcpStream::connect(free).await.is_err(), "nothing listens on {free}");
    running.stop().await.expect("stops");
}
