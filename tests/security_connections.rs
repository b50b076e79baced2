//! Issue 20, finding 6: every listener caps its open connections (per listener and per client
//! IP), closes idle connections, and bounds how long an HTTP request head and body may take.
//! Idle TCP connections are opened by hand; a refused connection is closed by the server at
//! once, and the refusal is counted in `isobar_connections_refused_total`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::config;
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::{Config, DurationValue, TokenConfig};
use isobar::server::start;
use isobar_proto::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A generous bound for a close that must happen (the timeouts under test are 1-2 s).
const CLOSE_WITHIN: Duration = Duration::from_secs(15);

fn secs(s: u64) -> DurationValue {
    DurationValue(Duration::from_secs(s))
}

fn small_caps(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    config.auth.tokens = vec![TokenConfig {
        name: "reader".into(),
        sha256: hash_secret("secret-r"),
        grants: [("*".to_owned(), vec![Permission::Read, Permission::Write])].into_iter().collect(),
    }];
    config.line_protocol.enabled = true;
    config.line_protocol.listen = "127.0.0.1:0".parse().expect("address");
    config.connections.max_per_peer = 4;
    config.connections.max_per_listener = 100;
    config.connections.idle_timeout = secs(2);
    config.connections.header_read_timeout = secs(1);
    config.connections.body_read_timeout = secs(1);
    config
}

/// Reads until the server closes `stream` (EOF or reset) and returns what it sent; `None` when
/// it is still open after `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    };
    tokio::time::timeout(within, read_all).await.ok()?;
    Some(seen)
}

/// The value of one sample line of the metrics endpoint.
async fn metric(addr: SocketAddr, sample: &str) -> Option<u64> {
    let mut stream = TcpStream::connect(addr).await.expect("connect to metrics");
    // With [auth] on, a scrape needs a token (tests/security_metrics.rs).
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer secret-r\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).await.expect("answer");
    text.lines().find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
}

async fn idle_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut open = Vec::new();
    for _ in 0..n {
        open.push(TcpStream::connect(addr).await.expect("connect"));
    }
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_connections_past_the_peer_cap_are_closed_and_idle_ones_time_out() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&small_caps(data.path())).await.expect("starts");
    let metrics = running.metrics_addr().expect("metrics on");

    let mut idle = idle_connections(running.addr(), 4).await;
    // Let the accept loop take the four before the fifth arrives: wait (bounded) until the
    // server counts them open, rather than for a fixed time a loaded machine may not meet.
    let open = "isobar_connections_open{listener=\"grpc\"}";
    for _ in 0..200 {
        if metric(metrics, open).await == Some(4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(metric(metrics, open).await, Some(4), "the four idle connections are accepted");
    let mut refused = TcpStream::connect(running.addr()).await.expect("the OS still accepts");
    assert!(closed_by_server(&mut refused, CLOSE_WITHIN).await.is_some(), "the fifth connection from one IP is closed");
    let sample = "isobar_connections_refused_total{listener=\"grpc\",reason=\"peer\"}";
    assert_eq!(metric(metrics, sample).await, Some(1), "the refusal is counted");

    // Connections with no call are closed after connections.idle_timeout (2 s here).
    for stream in &mut idle {
        assert!(closed_by_server(stream, CLOSE_WITHIN).await.is_some(), "an idle gRPC connection is closed");
    }
    assert_eq!(metric(metrics, open).await, Some(0), "every place is free again");

    // Then an authenticated call succeeds.
    let options = ClientOptions { token: Some("secret-r".into()), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("connects");
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.expect("authenticated call succeeds");
    assert!(tables.into_inner().tables.is_empty());
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_listeners_cap_connections_and_time_out_slow_heads_bodies_and_idle_connections() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = small_caps(data.path());
    config.connections.max_per_peer = 100;
    config.connections.max_per_listener = 3;
    let running = start(&config).await.expect("starts");
    let lp = running.line_protocol_addr().expect("line protocol on");
    let metrics = running.metrics_addr().expect("metrics on");

    // The listener cap: three idle connections, the fourth is closed at once.
    let mut idle = idle_connections(lp, 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = TcpStream::connect(lp).await.expect("the OS still accepts");
    let answer = closed_by_server(&mut refused, CLOSE_WITHIN).await.expect("the fourth connection is closed");
    assert!(answer.is_empty(), "closed without an answer: {}", String::from_utf8_lossy(&answer));
    let sample = "isobar_connections_refused_total{listener=\"line_protocol\",reason=\"listener\"}";
    assert_eq!(metric(metrics, sample).await, Some(1));
    for stream in &mut idle {
        assert!(closed_by_server(stream, CLOSE_WITHIN).await.is_some(), "an idle HTTP connection is closed");
    }

    // A request head that never ends is cut off by connections.header_read_timeout.
    let mut slow_head = TcpStream::connect(lp).await.expect("connect");
    slow_head.write_all(b"POST /api/v2/write HTTP/1.1\r\nHost: x\r\n").await.expect("partial head");
    assert!(closed_by_server(&mut slow_head, CLOSE_WITHIN).await.is_some(), "a slow head is cut off");

    // A body that stops arriving is answered 408 naming connections.body_read_timeout.
    let mut slow_body = TcpStream::connect(lp).await.expect("connect");
    let head = "POST /api/v2/write HTTP/1.1\r\nHost: x\r\nAuthorization: Token secret-r\r\nContent-Length: 100\r\n\r\n";
    slow_body.write_all(head.as_bytes()).await.expect("head");
    slow_body.write_all(b"cpu,host=a v=1 1\n").await.expect("part of the body");
    let answer = closed_by_server(&mut slow_body, CLOSE_WITHIN).await.expect("answered and closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("connections.body_read_timeout"), "{answer}");

    // With the idle connections gone, a request is served.
    let mut ping = TcpStream::connect(lp).await.expect("connect");
    ping.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("ping");
    let answer = closed_by_server(&mut ping, CLOSE_WITHIN).await.expect("answered");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 204"), "{}", String::from_utf8_lossy(&answer));
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_connection_with_an_open_call_outlives_the_idle_timeout() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.connections.idle_timeout = secs(1);
    let (running, mut client) = common::serve(&config).await;
    common::create_weather(&mut client).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let call = {
        let mut client = client.clone();
        tokio::spawn(async move { client.ingest.write_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await })
    };
    let batch = |ts: i64| common::one_batch("weather", "s", vec![ts], vec![common::f64_column("temp", vec![1.0])]);
    tx.send(batch(1)).await.expect("first message");
    // The call stays open, silent, for three idle timeouts: an open stream is activity.
    tokio::time::sleep(Duration::from_secs(3)).await;
    tx.send(batch(2)).await.expect("second message");
    drop(tx);
    call.await.expect("call task").expect("the stream survived the idle timeout");
    assert_eq!(
        common::scan_all(&mut client, "weather", &["env.temp"]).await.iter().map(|b| b.num_rows()).sum::<usize>(),
        2
    );
    running.stop().await.expect("stops");
}
