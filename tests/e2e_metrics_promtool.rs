//! A real scrape passes `promtool check metrics` (Debian's `prometheus` package; `scripts/test.sh`
//! installs it) and holds the process and producer families operators alert on: resident memory,
//! CPU seconds, open and allowed file descriptors and the start time of the server process, and
//! the producers tracked, forgotten and answered as duplicates. Under `CI` a missing `promtool`
//! fails the test; elsewhere its check is skipped with a note (the other checks still run).

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{config, create_weather, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` over a fresh HTTP/1.1 connection; returns the status line and the body.
async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
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
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// The value of the unlabelled sample `name`.
fn sample(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in the scrape"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_scrape_passes_promtool_and_has_process_and_producer_metrics() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (server, mut client) = serve(&config(&tmp.path().join("db"))).await;
    create_weather(&mut client).await;
    let metrics = server.metrics_addr().expect("metrics on");
    let (status, body) = http_get(metrics, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");

    assert!(sample(&body, "process_resident_memory_bytes") > 1.0e6, "a server holds more than 1 MB");
    assert!(sample(&body, "process_virtual_memory_bytes") >= sample(&body, "process_resident_memory_bytes"));
    assert!(sample(&body, "process_open_fds") >= 3.0);
    assert!(sample(&body, "process_max_fds") >= sample(&body, "process_open_fds"));
    assert!(sample(&body, "process_cpu_seconds_total") >= 0.0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    let started = sample(&body, "process_start_time_seconds");
    assert!(started <= now + 1.0 && started > now - 86_400.0, "started {started}, now {now}");
    assert_eq!(sample(&body, "isobar_producers"), 0.0);
    assert_eq!(sample(&body, "isobar_producers_expired_total"), 0.0);
    assert_eq!(sample(&body, "isobar_producer_duplicates_total"), 0.0);
    assert_eq!(sample(&body, "isobar_resumes_total"), 0.0);

    let promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match promtool {
        Ok(mut child) => {
            child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("feeds promtool");
            let out = child.wait_with_output().expect("promtool runs");
            let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "promtool check metrics: {said}");
        }
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "promtool is missing ({e}); install Debian's prometheus");
            println!("SKIPPED the promtool check: promtool not found ({e})");
        }
    }
    drop(client);
    let _ = server.stop().await;
}
