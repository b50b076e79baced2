//! Issue 20, findings 2 and 3 on the line-protocol endpoint: a token without `write` on a table
//! is refused before the catalog is consulted (no family, column or type in the answer), and the
//! inflated size of a gzip body is charged to the in-flight budget.

use std::io::Write as _;
use std::net::SocketAddr;

use isobar::auth::{Permission, hash_secret};
use isobar::config::{ByteSize, Config, TokenConfig};
use isobar::server::start;
use isobar_storage::{ColumnType, TableSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("address");
    config.server.data_dir = dir.to_path_buf();
    config.metrics.listen = "127.0.0.1:0".parse().expect("address");
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    let token = |name: &str, secret: &str, table: &str| TokenConfig {
        name: name.into(),
        sha256: hash_secret(secret),
        grants: [(table.to_owned(), vec![Permission::Write])].into_iter().collect(),
    };
    config.auth.tokens = vec![token("other-writer", "secret-o", "other"), token("writer", "secret-w", "*")];
    config
}

async fn post(addr: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "POST /api/v2/write HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
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
    (head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status"), body.to_owned())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("compress")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_write_on_the_table_learns_nothing_of_its_schema() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&config(data.path())).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");
    running
        .db()
        .create_table(TableSpec::new("secret").family("hidden_family", &[("hidden_col", ColumnType::F64)]))
        .expect("create");
    // A missing family, then a column of the wrong type: both catalog answers before the fix.
    for body in ["secret v=1i 1\n", "secret hidden_col=\"s\" 1\n"] {
        let (status, answer) = post(addr, &[("Authorization", "Token secret-o")], body.as_bytes()).await;
        assert_eq!(status, 403, "{answer}");
        for leak in ["hidden_family", "hidden_col", "f64", "F64", "string"] {
            assert!(!answer.contains(leak), "{leak:?} disclosed: {answer}");
        }
    }
    // The writer of every table still gets the catalog's answer.
    let (status, answer) = post(addr, &[("Authorization", "Token secret-w")], b"secret v=1i 1\n").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("hidden_family"), "{answer}");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inflated_size_of_a_gzip_body_is_charged_to_the_in_flight_budget() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.server.max_inflight_write_bytes = ByteSize(256 << 10);
    let running = start(&config).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");
    // About 1 MiB of lines compress to a few KiB: admitted as sent, too big once inflated.
    let lines = "g,s=a v=1i 1\n".repeat(100_000);
    let compressed = gzip(lines.as_bytes());
    assert!(compressed.len() < 256 << 10 && lines.len() > 4 * (256 << 10));
    let token = ("Authorization", "Token secret-w");
    let (status, answer) = post(addr, &[token, ("Content-Encoding", "gzip")], &compressed).await;
    assert_eq!(status, 429, "{answer}");
    assert!(answer.contains("server.max_inflight_write_bytes"), "{answer}");
    assert!(running.db().table_def("g").is_err(), "the refused request wrote nothing");
    // A body that fits is written.
    let (status, answer) = post(addr, &[token, ("Content-Encoding", "gzip")], &gzip(b"g,s=a v=1i 1\n")).await;
    assert_eq!(status, 204, "{answer}");
    running.stop().await.expect("stops");
}
