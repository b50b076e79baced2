//! Issue 20, findings 1 and 2: the line-protocol endpoint authenticates from the request headers
//! before it reads, inflates or parses a body. Counted with the process-wide counters
//! `isobar_ingest::line_protocol::bytes_parsed` and `isobar::http::bytes_inflated`; this file
//! holds one test so that nothing else in its process parses while it counts.

use std::io::Write as _;
use std::net::SocketAddr;

use isobar::auth::{Permission, hash_secret};
use isobar::config::{Config, TokenConfig};
use isobar::server::start;
use isobar_ingest::line_protocol::bytes_parsed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("address");
    config.server.data_dir = dir.to_path_buf();
    config.metrics.listen = "127.0.0.1:0".parse().expect("address");
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    // The flood below comes from one address on purpose and is followed by a valid write from
    // it; the per-address limit of failed authentications is tested in e2e_access_matrix.rs.
    config.auth.max_failed_auth_per_minute = 0;
    config.auth.tokens = vec![TokenConfig {
        name: "writer".into(),
        sha256: hash_secret("secret-w"),
        grants: [("*".to_owned(), vec![Permission::Write])].into_iter().collect(),
    }];
    config
}

/// Sends one request and returns the status. The body is written while the answer is read: a
/// server that answers from the headers may close before taking the whole body.
async fn post(addr: SocketAddr, headers: &[(&str, &str)], body: Vec<u8>) -> u16 {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let mut head = format!(
        "POST /api/v2/write HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    wr.write_all(head.as_bytes()).await.expect("write head");
    let sender = tokio::spawn(async move {
        // The server may refuse and close before the body is sent: not an error here.
        let _ = wr.write_all(&body).await;
        wr
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) if !raw.is_empty() => break,
            Err(e) => panic!("no answer: {e}"),
        }
    }
    drop(sender.await);
    let text = String::from_utf8_lossy(&raw);
    text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("compress")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_cost_no_parsing_and_no_inflation() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&config(data.path())).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");

    // Finding 1's quadratic bodies: 100,000 distinct measurements, one line of 80,000 fields.
    let measurements: String = (0..100_000).map(|i| format!("m{i} v=1i 1\n")).collect();
    let wide = {
        let fields: Vec<String> = (0..80_000).map(|i| format!("f{i}=1i")).collect();
        format!("wide {} 1\n", fields.join(","))
    };
    let (parsed0, inflated0) = (bytes_parsed(), isobar::http::bytes_inflated());
    for body in [measurements.as_bytes(), wide.as_bytes()] {
        for headers in [&[][..], &[("Authorization", "Token wrong")][..]] {
            assert_eq!(post(addr, headers, body.to_vec()).await, 401);
        }
    }
    // Finding 2's flood: many gzip bodies at once, no token.
    let compressed = gzip(measurements.as_bytes());
    let flood: Vec<_> = (0..16)
        .map(|_| {
            let body = compressed.clone();
            tokio::spawn(async move { post(addr, &[("Content-Encoding", "gzip")], body).await })
        })
        .collect();
    for request in flood {
        assert_eq!(request.await.expect("request"), 401);
    }
    assert_eq!(bytes_parsed() - parsed0, 0, "a request without a valid token is never parsed");
    assert_eq!(isobar::http::bytes_inflated() - inflated0, 0, "nor inflated");
    assert!(running.db().table_def("m0").is_err() && running.db().table_def("wide").is_err());

    // The counters do count: an authenticated gzip write is inflated and parsed.
    let line = b"ok,s=a v=1i 1\n";
    let token = ("Authorization", "Token secret-w");
    assert_eq!(post(addr, &[token, ("Content-Encoding", "gzip")], gzip(line)).await, 204);
    assert_eq!(bytes_parsed() - parsed0, line.len() as u64);
    assert_eq!(isobar::http::bytes_inflated() - inflated0, line.len() as u64);
    running.stop().await.expect("stops");
}
