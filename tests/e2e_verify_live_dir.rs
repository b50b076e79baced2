//! `isobar admin verify --data-dir` on the directory of a running server takes the data
//! directory's LOCK instead of racing the server's compactions (which used to make a file
//! removed mid-check a false "damaged"): it refuses, exit 1, saying to stop the server or to
//! check through it with a snapshot, and reports nothing as damaged. Once the server is stopped
//! the same command checks every SSTable.

mod common;

use std::process::{Command, Output};

use common::{config, create_weather, f64_column, one_batch, serve};
use isobar_proto::v1 as pb;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

async fn verify(dir: &std::path::Path) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN).args(["admin", "verify", "--data-dir"]).arg(&dir).output().expect("runs")
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_refuses_a_live_directory_and_checks_it_once_the_server_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    for round in 0..3i64 {
        let ts: Vec<i64> = (round * 100..round * 100 + 100).collect();
        let values: Vec<f64> = ts.iter().map(|t| *t as f64).collect();
        client.ingest.write(one_batch("weather", "s", ts, vec![f64_column("temp", values)])).await.expect("write");
        client.admin.flush(pb::FlushRequest::default()).await.expect("flush");
    }

    let live = verify(dir.path()).await;
    let stderr = String::from_utf8_lossy(&live.stderr);
    let stdout = String::from_utf8_lossy(&live.stdout);
    assert!(!live.status.success(), "a live directory is refused; stdout: {stdout}");
    assert!(stderr.contains("is in use") && stderr.contains("LOCK"), "{stderr}");
    assert!(stderr.contains("stop the server") && stderr.contains("isobar snapshot verify"), "{stderr}");
    assert!(!stdout.contains("damaged") && !stderr.contains("damaged"), "no false alarm: {stdout} {stderr}");

    server.stop().await.expect("server stops");
    let offline = verify(dir.path()).await;
    let stderr = String::from_utf8_lossy(&offline.stderr);
    assert!(offline.status.success(), "{stderr}");
    assert!(stderr.contains("SSTables checked") && stderr.contains("all sound"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_of_a_missing_directory_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nowhere");
    let out = verify(&missing).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(!missing.exists(), "verify creates nothing");
}
