//! End to end over TLS on loopback, with certificates generated at test time: a client trusting
//! the CA connects; with `tls.client_ca` a client without a certificate (or with one from another
//! CA) is refused and one with a certificate from the CA is served; a plain-text client against
//! a TLS port fails with an error instead of hanging.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use isobar::client::{Client, ClientError, ClientOptions};
use isobar::config::Config;
use isobar_proto::v1 as pb;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// Long enough for any handshake on a loaded machine; only reached if the client would hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A CA that signs server and client certificates, written as PEM files under `dir`.
struct Pki {
    dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new(dir: &Path, name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        std::fs::write(dir.join(format!("{name}-ca.pem")), ca.pem()).expect("write CA");
        Self { dir: dir.to_path_buf(), ca }
    }

    fn ca_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}-ca.pem"))
    }

    /// A leaf certificate for `sans`, as (cert file, key file).
    fn leaf(&self, file: &str, sans: &[&str]) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).expect("p");
        params.distinguished_name.push(DnType::CommonName, file);
        let cert = params.signed_by(&key, &self.ca).expect("signed");
        let (cert_path, key_path) = (self.dir.join(format!("{file}.pem")), self.dir.join(format!("{file}.key")));
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path)
    }
}

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
