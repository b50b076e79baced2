//! End to end over TLS on loopback, with certificates generated at test time: a client trusting
//! the CA connects; with `tls.client_ca` a client without a certificate (or with one from another
//! CA) is refused and one with a certificate from the CA is served; a plain-text client against
//! a TLS port fails with an error instead of hanging; the CLI names a TLS mismatch in either
//! direction (and `isobar health` too), and the server logs failed handshakes, rate-limited.

mod common;

use std::path::Path;
use std::time::Duration;

use common::pki::Pki;
use common::*;
use isobar::client::{Client, ClientError, ClientOptions};
use isobar::config::Config;
use isobar_proto::v1 as pb;

/// Long enough for any handshake on a loaded machine; only reached if the client would hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A config serving TLS with a certificate for 127.0.0.1 and localhost.
fn tls_config(data: &Path, pki: &Pki) -> Config {
    let mut config = config(data);
    let (cert, key) = pki.leaf("server", &["127.0.0.1", "localhost"]);
    config.tls.cert = Some(cert);
    config.tls.key = Some(key);
    config
}

/// Connects and lists tables, bounded by [`CALL_TIMEOUT`].
async fn list_tables(url: &str, options: &ClientOptions) -> Result<Vec<String>, ClientError> {
    let call = async {
        let mut client = Client::connect_with(url, options).await?;
        let tables = client.admin.list_tables(pb::ListTablesRequest {}).await?.into_inner().tables;
        Ok(tables.into_iter().map(|t| t.name).collect())
    };
    tokio::time::timeout(CALL_TIMEOUT, call).await.expect("the client gave an answer instead of hanging")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_ca_is_served_over_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let running = isobar::server::start(&tls_config(&dir.path().join("data"), &pki)).await.expect("starts");
    assert!(running.url().starts_with("https://"), "{}", running.url());
    let options = ClientOptions { tls_ca: Some(pki.ca_file("main")), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("TLS connect");
    create_weather(&mut client).await;
    assert_eq!(list_tables(&running.url(), &options).await.expect("list"), ["weather"]);

    let no_ca = list_tables(&running.url(), &ClientOptions::default()).await.unwrap_err();
    assert!(no_ca.to_string().contains("--tls-ca"), "{no_ca}");
    let other = Pki::new(dir.path(), "other");
    let untrusted = ClientOptions { tls_ca: Some(other.ca_file("other")), ..ClientOptions::default() };
    assert!(list_tables(&running.url(), &untrusted).await.is_err(), "a server certificate from another CA");
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_client_certificates_are_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let mut config = tls_config(&dir.path().join("data"), &pki);
    config.tls.client_ca = Some(pki.ca_file("main"));
    let running = isobar::server::start(&config).await.expect("starts");
    let url = running.url();
    let ca_only = ClientOptions { tls_ca: Some(pki.ca_file("main")), ..ClientOptions::default() };
    assert!(list_tables(&url, &ca_only).await.is_err(), "no client certificate: refused");

    let other = Pki::new(dir.path(), "other");
    let (cert, key) = other.leaf("stranger", &["stranger"]);
    let stranger = ClientOptions { tls_cert: Some(cert), tls_key: Some(key), ..ca_only.clone() };
    assert!(list_tables(&url, &stranger).await.is_err(), "a client certificate from another CA: refused");

    let (cert, key) = pki.leaf("agent", &["agent"]);
    let agent = ClientOptions { tls_cert: Some(cert), tls_key: Some(key), ..ca_only };
    assert_eq!(list_tables(&url, &agent).await.expect("certificate from the CA"), Vec::<String>::new());
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_client_against_a_tls_port_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let running = isobar::server::start(&tls_config(&dir.path().join("data"), &pki)).await.expect("starts");
    let plain = format!("http://{}", running.addr());
    let err = list_tables(&plain, &ClientOptions::default()).await.expect_err("plain text is refused");
    assert!(matches!(err, ClientError::Connect { .. } | ClientError::Status(_)), "{err:?}");
    // The server is unharmed: a TLS client still gets through.
    let options = ClientOptions { tls_ca: Some(pki.ca_file("main")), ..ClientOptions::default() };
    assert!(list_tables(&running.url(), &options).await.is_ok());
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_certificate_file_fails_the_start_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let mut config = tls_config(&dir.path().join("data"), &pki);
    config.tls.key = Some(dir.path().join("missing.key"));
    let err = isobar::server::start(&config).await.expect_err("no key file");
    let message = err.to_string();
    assert!(message.contains("tls.key") && message.contains("missing.key"), "{message}");
}

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// Runs the CLI (bounded by `--timeout` for health; the mismatch answers at once otherwise).
async fn cli(args: &[&str]) -> std::process::Output {
    cli_with_token(args, None).await
}

/// [`cli`] with `$ISOBAR_TOKEN` set to `token`.
async fn cli_with_token(args: &[&str], token: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(BIN);
    command.args(args).env_remove("ISOBAR_TOKEN");
    if let Some(token) = token {
        command.env("ISOBAR_TOKEN", token);
    }
    let run = tokio::task::spawn_blocking(move || command.output().expect("runs"));
    tokio::time::timeout(CALL_TIMEOUT, run).await.expect("the CLI answered").expect("joined")
}

/// The CLI's stderr, after checking that the command failed.
fn failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "the command should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_cli_call_against_a_tls_port_names_the_mismatch_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let running = isobar::server::start(&tls_config(&dir.path().join("data"), &pki)).await.expect("starts");
    let plain = format!("http://{}", running.addr());
    for args in [vec!["--addr", &plain, "table", "list"], vec!["--addr", &plain, "health", "--timeout", "20s"]] {
        let err = failure(&cli(&args).await);
        assert!(err.contains(&format!("the server at {} speaks TLS", running.addr())), "{args:?}: {err}");
        assert!(err.contains(&format!("https://{}", running.addr())) && err.contains("--tls-ca"), "{args:?}: {err}");
        assert!(!err.contains("h2 protocol error") && !err.contains("Cancelled"), "{args:?}: {err}");
    }
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cli_call_against_a_plain_text_port_names_the_mismatch_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let running = isobar::server::start(&config(&dir.path().join("data"))).await.expect("starts");
    let https = format!("https://{}", running.addr());
    let ca = pki.ca_file("main");
    let ca = ca.to_str().expect("utf8");
    for args in [
        vec!["--addr", &https, "--tls-ca", ca, "table", "list"],
        vec!["--addr", &https, "--tls-ca", ca, "health", "--timeout", "20s"],
    ] {
        let err = failure(&cli(&args).await);
        assert!(err.contains(&format!("the server at {} does not speak TLS", running.addr())), "{args:?}: {err}");
        assert!(err.contains(&format!("http://{}", running.addr())) && err.contains("[tls]"), "{args:?}: {err}");
    }
    // A server that is not there is still "cannot connect", not a mismatch.
    running.stop().await.expect("stops");
    let err = failure(&cli(&["--addr", &https, "--tls-ca", ca, "table", "list"]).await);
    assert!(err.contains("cannot connect") && !err.contains("TLS"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_logs_failed_handshakes_rate_limited_without_client_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(dir.path(), "main");
    let config = tls_config(&dir.path().join("data"), &pki);
    let file = dir.path().join("isobar.toml");
    std::fs::write(&file, config.to_toml()).expect("config file");
    let log = dir.path().join("server.log");
    let server = isobar_testkit::server::ServerCommand::new(BIN, dir.path().join("data"))
        .arg("--config")
        .arg(&file)
        .log_file(&log)
        .start_async()
        .await
        .expect("serve starts");
    let plain = format!("http://{}", server.addr());
    let started = std::time::Instant::now();
    const ATTEMPTS: usize = 6;
    for _ in 0..ATTEMPTS {
        let out = cli_with_token(&["--addr", &plain, "table", "list"], Some("s3cret-never-logged")).await;
        assert!(!out.status.success());
    }
    let lines =
        |text: &str| text.lines().filter(|l| l.contains("TLS handshake failed")).map(str::to_owned).collect::<Vec<_>>();
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if !lines(&text).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logged = lines(&text);
    let first = logged.first().unwrap_or_else(|| panic!("no handshake failure logged:\n{text}"));
    assert!(
        first.contains("127.0.0.1") && first.contains("plain-text HTTP/2") && first.contains("https://"),
        "{first}"
    );
    // Each attempt fails at least one handshake (the call, then the client's probe): without the
    // limit there would be a line for each. With it, one line per 10 s of the test's run.
    let allowed = 1 + started.elapsed().as_secs() as usize / 10;
    assert!(
        logged.len() <= allowed && logged.len() < ATTEMPTS,
        "{} lines in {:?}:\n{text}",
        logged.len(),
        started.elapsed()
    );
    assert!(!text.contains("s3cret-never-logged") && !text.contains("PRI * HTTP"), "client bytes in the log:\n{text}");
    drop(server);
}
