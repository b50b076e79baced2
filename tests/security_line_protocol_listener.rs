//! Issue 20, low items about the line-protocol listener: the v1 token is refused in the URL
//! unless `line_protocol.allow_token_in_url`, and refusals are logged with the peer address.
//! This file installs a global log subscriber that writes into a buffer, so it holds only
//! tests that read that buffer.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use isobar::config::Config;
use isobar::server::start;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Everything logged by this process.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Writer(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber per test process");
        buffer
    })
    .clone()
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn config(dir: &std::path::Path) -> Config {
    let mut config = common::config(dir);
    common::line_protocol_with_a_writer(&mut config);
    config
}

/// Posts `body` to `path`; returns the status, the body of the answer and the client's own
/// address (what the server sees as the peer).
async fn post(addr: SocketAddr, path: &str, headers: &str, body: &str) -> (u16, String, SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let local = stream.local_addr().expect("local address");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut text))
        .await
        .expect("answer within 30 s")
        .expect("read");
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    (status, text, local)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_in_the_url_are_refused_by_default_and_refusals_name_the_peer() {
    let logs = logs();
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(&config(data.path())).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");
    let line = "weather,station=A temp=1.5 1\n";

    let (status, answer, _) = post(addr, "/write?db=x&u=me&p=secret-w", "", line).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("line_protocol.allow_token_in_url"), "the answer names the switch: {answer}");
    assert!(!answer.contains("secret-w"), "the secret is never echoed: {answer}");
    assert!(running.db().table_def("weather").is_err(), "nothing written");

    // Refusals are logged with the client's address and port.
    let (status, _, unauthenticated) = post(addr, "/api/v2/write", "Authorization: Token wrong\r\n", line).await;
    assert_eq!(status, 401);
    let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    let refusals: Vec<&str> = text.lines().filter(|l| l.contains("line-protocol write refused")).collect();
    assert!(
        refusals.iter().any(|l| l.contains(&unauthenticated.to_string())),
        "peer {unauthenticated} in {refusals:?}"
    );
    assert!(!text.contains("secret-w") && !text.contains("Token wrong"), "no secret in the log");

    // The header works; the switch lets old v1 clients use p=.
    let (status, _, _) = post(addr, "/api/v2/write", "Authorization: Token secret-w\r\n", line).await;
    assert_eq!(status, 204);
    running.stop().await.expect("stops");
    let mut allowed = config(data.path());
    allowed.line_protocol.allow_token_in_url = true;
    let running = start(&allowed).await.expect("starts again");
    let addr = running.line_protocol_addr().expect("line protocol on");
    let (status, answer, _) = post(addr, "/write?u=me&p=secret-w", "", "weather,station=A temp=2.5 2\n").await;
    assert_eq!(status, 204, "{answer}");
    running.stop().await.expect("stops");
}
