//! Health tells the truth on a real full disk: a server on an 8 MiB tmpfs takes writes until the
//! WAL meets `ENOSPC`; from then on the gRPC health service answers `NOT_SERVING`, `isobar health`
//! exits non-zero naming `read-only: disk_full`, `GET /ready` on the metrics port is 503 with the
//! reason and `isobar_read_only{reason="disk_full"}` is 1. Before, all of them say "serving".
//!
//! Needs root (to mount); under `CI` it fails without it, elsewhere it prints
//! `SKIPPED: cannot mount tmpfs (not root)` and returns.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use common::{config, create_weather, f64_column, one_batch, serve};
use isobar_testkit::tmpfs::mount_or_skip;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

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

/// The `isobar_read_only` samples of a scrape: reason -> value.
async fn read_only_gauge(addr: SocketAddr) -> Vec<(String, String)> {
    let (status, body) = http_get(addr, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    body.lines()
        .filter_map(|l| l.strip_prefix("isobar_read_only{reason=\""))
        .map(|l| {
            let (reason, value) = l.split_once("\"} ").expect("one label");
            (reason.to_string(), value.to_string())
        })
        .collect()
}

async fn health_cli(url: &str) -> Output {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN).args(["--addr", &url, "health", "--timeout", "5s"]).output().expect("runs")
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_turns_health_readiness_and_the_metric_to_read_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let Some(_mount) = mount_or_skip(&mnt, "8m") else {
        return;
    };
    std::fs::write(mnt.join("filler"), vec![0x5a; 1 << 20]).expect("filler");
    let (server, mut client) = serve(&config(&mnt.join("db"))).await;
    let metrics = server.metrics_addr().expect("metrics on");
    create_weather(&mut client).await;

    // Serving: every signal says so.
    let out = health_cli(&server.url()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, body) = http_get(metrics, "/ready").await;
    assert!(status.contains(" 200 "), "{status} {body}");
    let gauge = read_only_gauge(metrics).await;
    let reasons: Vec<&str> = gauge.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(reasons, ["disk_full", "wal_failed", "manifest_failed", "flush_failing"]);
    assert!(gauge.iter().all(|(_, v)| v == "0"), "{gauge:?}");

    // Fill the file system through the WAL.
    let mut next = 0i64;
    let mut refused = None;
    for _ in 0..10_000 {
        let ts: Vec<i64> = (next..next + 2000).collect();
        let values: Vec<f64> = ts.iter().map(|t| (*t % 89) as f64).collect();
        next += 2000;
        if let Err(status) = client.ingest.write(one_batch("weather", "s", ts, vec![f64_column("temp", values)])).await
        {
            refused = Some(status);
            break;
        }
    }
    let refused = refused.expect("an 8 MiB file system fills up");
    assert!(refused.message().contains("disk full"), "{refused:?}");

    // Read-only: the CLI, the gRPC health reply, /ready and the metric all say so, and why.
    let out = health_cli(&server.url()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "health exits non-zero while writes are refused");
    assert!(stderr.contains("NOT_SERVING") && stderr.contains("read-only: disk_full"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let (status, body) = http_get(metrics, "/ready").await;
    assert!(status.contains(" 503 "), "{status}");
    assert!(body.starts_with("not ready: read-only (disk_full)"), "{body}");
    let gauge = read_only_gauge(metrics).await;
    let on: Vec<&str> = gauge.iter().filter(|(_, v)| v == "1").map(|(r, _)| r.as_str()).collect();
    assert_eq!(on, ["disk_full"], "{gauge:?}");
    // The WAL backlog gauge holds what filled the disk (nothing was flushed).
    let (_, body) = http_get(metrics, "/metrics").await;
    let backlog: f64 = body
        .lines()
        .find_map(|l| l.strip_prefix("isobar_wal_unflushed_bytes "))
        .expect("the WAL backlog gauge")
        .parse()
        .expect("a number");
    assert!(backlog > f64::from(4u32 << 20), "most of the 7 MiB left is WAL: {backlog}");
    // The Watch side (the reporter's statuses) follows within the watcher's period.
    let channel =
        tonic::transport::Endpoint::from_shared(server.url()).expect("url").connect().await.expect("connects");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let mut stream = health
        .watch(tonic_health::pb::HealthCheckRequest { service: "isobar.v1.Ingest".into() })
        .await
        .expect("watch")
        .into_inner();
    let not_serving = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;
    let watched = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(answer)) = stream.message().await.transpose() {
            if answer.status == not_serving {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(watched, Ok(true), "Watch reports NOT_SERVING");
    // A watch is a running call: end it so that the shutdown does not wait for it.
    drop(stream);
    drop(health);
    let _ = server.stop().await;
}
