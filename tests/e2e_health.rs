//! `isobar health` exits 0 against a serving server and non-zero when nothing serves, as Docker
//! HEALTHCHECK and Kubernetes exec probes need.

mod common;

use std::process::{Command, Output};

use common::{config, serve};

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

fn health(url: &str, extra: &[&str]) -> Output {
    Command::new(BIN).args(["--addr", url, "health", "--timeout", "5s"]).args(extra).output().expect("runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_exits_zero_only_when_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _client) = serve(&config(dir.path())).await;
    let url = server.url();
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || health(&url, &[])
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SERVING"));
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || health(&url, &["--service", "isobar.v1.Ingest"])
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || health(&url, &["--service", "no.such.Service"])
    })
    .await
    .expect("joined");
    assert!(!out.status.success(), "an unknown service is not healthy");
    server.stop().await.expect("server stops");

    // Nothing listens there any more.
    let out = tokio::task::spawn_blocking(move || health(&url, &[])).await.expect("joined");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"), "{}", String::from_utf8_lossy(&out.stderr));
}
