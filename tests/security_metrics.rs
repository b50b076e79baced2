//! Issue 20, finding 10: the metrics endpoint asks for a token when `[auth]` is on, shows table
//! and family names only with `metrics.table_labels`, and `isobar serve` refuses to expose it
//! beyond loopback without authentication unless `metrics.allow_anonymous` says so.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{config, create_weather, f64_column, one_batch};
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::TokenConfig;
use isobar::server::start;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Status line and body of `GET /metrics`, with `authorization` if given.
async fn scrape(addr: SocketAddr, authorization: Option<&str>) -> (String, String) {
    get(addr, "/metrics", authorization).await
}

/// Status line and body of `GET path`, with `authorization` if given.
async fn get(addr: SocketAddr, path: &str, authorization: Option<&str>) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut text))
        .await
        .expect("answer within 30 s")
        .expect("read");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_need_a_token_and_show_no_table_names_unless_configured() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = config(data.path());
    config.auth.enabled = true;
    config.auth.tokens = vec![
        TokenConfig {
            name: "admin".into(),
            sha256: hash_secret("secret-admin"),
            grants: [("*".to_owned(), vec![Permission::Admin])].into_iter().collect(),
        },
        // A token with no grants at all is enough to scrape.
        TokenConfig { name: "prometheus".into(), sha256: hash_secret("secret-prom"), grants: Default::default() },
    ];
    let running = start(&config).await.expect("starts");
    let addr = running.metrics_addr().expect("metrics on");
    let options = ClientOptions { token: Some("secret-admin".into()), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("connects");
    create_weather(&mut client).await;
    let write = one_batch("weather", "secret_station", vec![1], vec![f64_column("temp", vec![1.5])]);
    client.ingest.write(write).await.expect("write");

    let (status, body) = scrape(addr, None).await;
    assert!(status.contains(" 401 "), "no token: {status}");
    assert!(body.contains("metrics.allow_anonymous"), "the answer says how: {body}");
    assert!(!body.contains("isobar_"), "no metric in a refusal");
    let (status, _) = scrape(addr, Some("Bearer wrong")).await;
    assert!(status.contains(" 401 "), "unknown token: {status}");
    // Readiness probes carry no token: /ready answers them (and only it).
    let (status, body) = get(addr, "/ready", None).await;
    assert!(status.contains(" 200 ") && body == "ready\n", "/ready without a token: {status} {body:?}");
    let (status, _) = get(addr, "/", None).await;
    assert!(status.contains(" 401 "), "/ without a token: {status}");

    let (status, body) = scrape(addr, Some("Bearer secret-prom")).await;
    assert!(status.contains(" 200 "), "any valid token: {status}");
    assert!(!body.contains("weather") && !body.contains("env"), "no table or family name:\n{body}");
    assert!(body.contains("isobar_open_series{table=\"*\",family=\"*\"} 1\n"), "aggregate series:\n{body}");
    running.stop().await.expect("stops");

    // With metrics.table_labels the per-family series come back (what the dashboard's
    // per-table panels use), and allow_anonymous lets a scrape in without a token.
    config.metrics.table_labels = true;
    config.metrics.allow_anonymous = true;
    let running = start(&config).await.expect("starts again");
    let addr = running.metrics_addr().expect("metrics on");
    let (status, body) = scrape(addr, None).await;
    assert!(status.contains(" 200 "), "allow_anonymous: {status}");
    assert!(body.contains("isobar_memtable_bytes{table=\"weather\",family=\"env\",state=\"active\"}"), "{body}");
    running.stop().await.expect("stops");
}

#[test]
fn serve_refuses_metrics_beyond_loopback_without_auth() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_isobar"))
        .arg("serve")
        .env_clear()
        .env("ISOBAR_SERVER_LISTEN", "127.0.0.1:0")
        .env("ISOBAR_SERVER_DATA_DIR", data.path())
        .env("ISOBAR_METRICS_LISTEN", "0.0.0.0:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = status.expect("serve exits instead of exposing metrics without auth");
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut stderr).expect("stderr");
    assert!(stderr.contains("metrics.allow_anonymous") && stderr.contains("0.0.0.0:0"), "{stderr}");
}
