//! Recovery without a restart, through the real server on a real full disk: a server on an
//! 8 MiB tmpfs takes writes until the WAL meets `ENOSPC`; clients then get `RESOURCE_EXHAUSTED`
//! (the failed write) and `UNAVAILABLE` (later ones), both retryable, and health answers
//! `NOT_SERVING`. The tmpfs is grown with the process up (`mount -o remount,size=64m`);
//! `isobar admin resume` brings writes back at once (the server also retries by itself), health
//! is `SERVING` again, writes and `isobar admin flush` succeed, SIGTERM exits 0, and after a
//! restart every acknowledged row is there, once.
//!
//! Needs root (to mount); under `CI` it fails without it, elsewhere it prints
//! `SKIPPED: cannot mount tmpfs (not root)` and returns.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use common::{create_weather, f64_column, one_batch, rows_f64, scan_all};
use isobar::client::Client;
use isobar_testkit::server::ServerCommand;
use isobar_testkit::tmpfs::mount_or_skip;
use tonic::Code;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// Runs the CLI against `url` with `args` (off the async workers).
async fn cli(url: &str, args: &[&str]) -> Output {
    let mut all = vec!["--addr".to_string(), url.to_string()];
    all.extend(args.iter().map(|a| (*a).to_string()));
    tokio::task::spawn_blocking(move || Command::new(BIN).args(&all).output().expect("runs")).await.expect("joined")
}

/// One write of 2000 points at `from..from + 2000` of series `s`.
fn batch(from: i64) -> (Vec<i64>, isobar_proto::v1::WriteRequest) {
    let ts: Vec<i64> = (from..from + 2000).collect();
    let values: Vec<f64> = ts.iter().map(|t| (*t % 89) as f64).collect();
    (ts.clone(), one_batch("weather", "s", ts, vec![f64_column("temp", values)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_recovers_without_restart_once_the_file_system_grows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let Some(_mount) = mount_or_skip(&mnt, "8m") else {
        return;
    };
    let data = mnt.join("db");
    let log = tmp.path().join("server.log");
    let server = ServerCommand::new(BIN, &data)
        .env("ISOBAR_LOG_LEVEL", "info")
        .log_file(&log)
        .start_async()
        .await
        .expect("serve starts");
    let url = server.url();
    let mut client = Client::connect(&url).await.expect("client connects");
    create_weather(&mut client).await;

    // Fill the file system through the WAL.
    let mut acked: BTreeSet<i64> = BTreeSet::new();
    let mut failed: BTreeSet<i64> = BTreeSet::new();
    let mut next = 0i64;
    let mut refused = None;
    for _ in 0..10_000 {
        let (ts, request) = batch(next);
        next += 2000;
        match client.ingest.write(request).await {
            Ok(_) => acked.extend(ts),
            Err(status) => {
                failed.extend(ts);
                refused = Some(status);
                break;
            }
        }
    }
    let refused = refused.expect("an 8 MiB file system fills up");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("disk full") && refused.message().contains("resumes by itself"), "{refused:?}");
    let (ts, request) = batch(next);
    next += 2000;
    let later = client.ingest.write(request).await.expect_err("refused while the disk is full");
    failed.extend(ts);
    assert_eq!(later.code(), Code::Unavailable, "{later:?}");
    assert!(later.message().contains("retry later"), "{later:?}");
    let out = cli(&url, &["health", "--timeout", "5s"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("NOT_SERVING"), "{stderr}");

    // Space returns with the process up.
    let grown = Command::new("mount").args(["-o", "remount,size=64m"]).arg(&mnt).status().expect("run mount");
    assert!(grown.success(), "remount with a larger size");
    let out = cli(&url, &["admin", "resume"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "admin resume: {stderr}");
    assert!(stderr.contains("writes are taken") || stderr.contains("nothing to resume"), "{stderr}");
    let out = cli(&url, &["health", "--timeout", "5s"]).await;
    assert!(out.status.success(), "serving again: {}", String::from_utf8_lossy(&out.stderr));
    for _ in 0..5 {
        let (ts, request) = batch(next);
        next += 2000;
        client.ingest.write(request).await.expect("writes are taken again without a restart");
        acked.extend(ts);
    }
    let out = cli(&url, &["admin", "flush"]).await;
    assert!(out.status.success(), "admin flush: {}", String::from_utf8_lossy(&out.stderr));
    drop(client);
    let status = server.stop_async(Duration::from_secs(60)).await.expect("stops on SIGTERM");
    assert!(status.success(), "a clean shutdown after the recovery exits 0: {status}");
    let text = std::fs::read_to_string(&log).expect("server log");
    assert!(text.contains("writes resumed"), "the log says writes resumed:\n{text}");

    // Every acknowledged row is there after a restart, once; nothing else but the failed writes.
    let server = ServerCommand::new(BIN, &data).start_async().await.expect("restarts");
    let mut client = Client::connect(&server.url()).await.expect("client connects");
    let rows = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    let found: BTreeSet<i64> = rows.iter().map(|(_, ts, _)| *ts).collect();
    assert_eq!(found.len(), rows.len(), "no row twice");
    let lost: Vec<&i64> = acked.difference(&found).collect();
    assert!(lost.is_empty(), "{} acknowledged rows lost, first {:?}", lost.len(), lost.first());
    let extra: Vec<&i64> = found.difference(&acked).filter(|ts| !failed.contains(ts)).collect();
    assert!(extra.is_empty(), "rows nobody wrote: {:?}", extra.first());
    drop(client);
    let status = server.stop_async(Duration::from_secs(60)).await.expect("stops");
    assert!(status.success(), "{status}");
}
