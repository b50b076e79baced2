//! Issue 20, low item: with `[tls]` the line-protocol listener speaks HTTPS with the server's
//! certificate. The client is `curl` (OpenSSL), an implementation independent of the server's
//! rustls, as Telegraf or an InfluxDB client library would be.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::pki::Pki;
use isobar::config::Config;
use isobar::server::start;

fn tls_config(data: &Path, pki: &Pki) -> Config {
    let mut config = common::config(data);
    let (cert, key) = pki.leaf("server", &["127.0.0.1", "localhost"]);
    config.tls.cert = Some(cert);
    config.tls.key = Some(key);
    common::line_protocol_with_a_writer(&mut config);
    config
}

/// `curl` posting `body` to `url` with the token; returns the HTTP status it saw (`000` when
/// there was no HTTP answer) and its error output.
async fn curl(url: String, ca: PathBuf, body: &'static str) -> (String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(&ca)
            .args(["-H", "Authorization: Token secret-w", "--data-binary", body])
            .arg(&url)
            .output()
            .expect("curl runs (install curl to run this test)");
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .await
    .expect("curl task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_line_protocol_listener_speaks_tls_with_the_servers_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let running = start(&tls_config(&dir.path().join("data"), &pki)).await.expect("starts");
    let addr = running.line_protocol_addr().expect("line protocol on");

    let url = format!("https://{addr}/api/v2/write?precision=s");
    let (status, stderr) = curl(url, pki.ca_file("main"), "weather,station=A temp=1.5 1700000000").await;
    assert_eq!(status, "204", "HTTPS write verified against the server's CA: {stderr}");
    assert!(running.db().table_def("weather").is_ok(), "the write landed");

    // Plain HTTP gets no HTTP answer from the TLS port, and writes nothing.
    let (status, _) = curl(format!("http://{addr}/api/v2/write"), pki.ca_file("main"), "plain v=1 1").await;
    assert_ne!(status, "204");
    assert!(running.db().table_def("plain").is_err(), "nothing written in clear text");
    running.stop().await.expect("stops");
}
