//! The PostgreSQL front end under hostile or careless clients: with `[tls]` set a password is
//! accepted only over TLS (`sslmode=disable` is refused before it sends one; `require` and
//! `verify-full` work); malformed protocol messages end that connection and nothing else; a
//! client that opens 1,000 connections gets the per-address cap and no more, while the other
//! listeners go on serving and the front end serves again once they are gone.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::pki::Pki;
use common::psql::run_psql;
use common::*;
use isobar::auth::Permission;
use isobar::client::{Client, ClientOptions};
use isobar::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROOT: &str = "secret-root";

fn postgres_config(data: &std::path::Path) -> Config {
    let mut config = config(data);
    config.postgres.enabled = true;
    config.postgres.listen = "127.0.0.1:0".parse().expect("address");
    config.auth.enabled = true;
    config.auth.tokens = vec![token("root", ROOT, "*", Permission::Admin)];
    config
}

/// `psql "<conninfo>" -c 'SELECT 1'` with the root token.
async fn select_one(conninfo: &str) -> common::psql::Psql {
    run_psql(&[conninfo, "-A", "-t", "-c", "SELECT 1"], Some(ROOT)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_a_password_is_accepted_only_over_tls() {
    let data = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new(data.path(), "pg");
    let (cert, key) = pki.leaf("server", &["127.0.0.1", "localhost"]);
    let mut config = postgres_config(&data.path().join("db"));
    config.tls.cert = Some(cert);
    config.tls.key = Some(key);
    let running = isobar::server::start(&config).await.expect("server starts");
    let port = running.postgres_addr().expect("postgres listener").port();
    let base = format!("host=127.0.0.1 port={port} dbname=isobar user=root");

    let plain = select_one(&format!("{base} sslmode=disable")).await;
    assert_eq!(plain.code, Some(2), "a plain-text connection was not refused:\n{plain}");
    assert!(plain.stderr.contains("only over TLS") && plain.stderr.contains("sslmode=require"), "{plain}");

    let required = select_one(&format!("{base} sslmode=require")).await;
    assert_eq!(required.ok(), "1\n", "{required}");

    let ca = pki.ca_file("pg");
    let verified = select_one(&format!("{base} sslmode=verify-full sslrootcert={}", ca.display())).await;
    assert_eq!(verified.ok(), "1\n", "{verified}");

    // A certificate from another CA does not verify: the client refuses the server.
    let other = Pki::new(data.path(), "other");
    let stranger =
        select_one(&format!("{base} sslmode=verify-full sslrootcert={}", other.ca_file("other").display())).await;
    assert_eq!(stranger.code, Some(2), "{stranger}");
    running.stop().await.expect("stops");
}

/// Reads until the server closes the connection (or 10 s pass); what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept a malformed connection open; it sent {out:?}"),
        }
    }
}

/// The type bytes of the backend messages in `bytes` (each: type, length, body).
fn message_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while let [ty, a, b, c, d, rest @ ..] = bytes {
        let len = usize::try_from(i32::from_be_bytes([*a, *b, *c, *d])).unwrap_or(0).max(4);
        types.push(*ty);
        bytes = rest.get(len - 4..).unwrap_or_default();
    }
    types
}

/// The startup message of user `root` on database `isobar`.
fn startup() -> Vec<u8> {
    let mut body = 196_608i32.to_be_bytes().to_vec(); // protocol 3.0
    for (k, v) in [("user", "root"), ("database", "isobar")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = i32::try_from(body.len() + 4).expect("small").to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message
}

/// A `PasswordMessage` with the root token.
fn password() -> Vec<u8> {
    let mut message = vec![b'p'];
    message.extend_from_slice(&i32::try_from(ROOT.len() + 5).expect("small").to_be_bytes());
    message.extend_from_slice(ROOT.as_bytes());
    message.push(0);
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_end_only_their_connection() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = isobar::server::start(&postgres_config(data.path())).await.expect("server starts");
    let addr = running.postgres_addr().expect("postgres listener");

    // A startup packet claiming 2 GiB, garbage, an unknown protocol version, a truncated one.
    let huge = [0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0].to_vec();
    let garbage = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    let mut version_9 = startup();
    version_9[4] = 0;
    version_9[5] = 9;
    for (what, bytes) in [("a 2 GiB startup length", huge), ("HTTP", garbage), ("protocol 9.0", version_9)] {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(&bytes).await.expect("writes");
        let answer = read_to_close(&mut stream).await;
        assert!(answer.is_empty() || answer[0] == b'E', "{what}: the server answered {answer:?}");
    }

    // After a good login: a message of an unknown type, then one whose length is shorter than
    // its own header, each followed by Terminate. The server either ends the connection at the
    // bad message or answers it without running anything (`pgwire` takes a too-short Query as
    // an empty one), then ends it at Terminate: either way the connection closes, and no row
    // was sent.
    // The last two are shapes `pgwire` 0.41.1's decoder panics on (found by the `pg_frontend`
    // fuzz target): the panic must end that connection only.
    let bind_past_its_end = vec![b'B', 0, 0, 0, 10, 0, 0, 0x7f, 0xff, 0, 0];
    let short_password = vec![b'p', 0, 0, 0, 1];
    for (what, bad) in [
        ("type 0x01", vec![1u8, 0, 0, 0, 4]),
        ("length 2", vec![b'Q', 0, 0, 0, 2]),
        ("a Bind whose counts run past it", bind_past_its_end),
        ("a password message of length 1", short_password),
    ] {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(&startup()).await.expect("writes");
        let mut buf = [0u8; 1];
        stream.read_exact(&mut buf).await.expect("reads");
        assert_eq!(buf[0], b'R', "{what}: no authentication request");
        stream.write_all(&password()).await.expect("writes");
        stream.write_all(&bad).await.expect("writes");
        let _ = stream.write_all(&[b'X', 0, 0, 0, 4]).await;
        let mut answer = buf.to_vec();
        answer.extend(read_to_close(&mut stream).await);
        let types = message_types(&answer);
        assert!(types.contains(&b'Z'), "{what}: the login did not complete: {types:?}");
        assert!(!types.contains(&b'D'), "{what}: rows were sent: {types:?}");
    }

    let port = addr.port().to_string();
    let after = run_psql(
        &["-h", "127.0.0.1", "-p", &port, "-U", "root", "-d", "isobar", "-A", "-t", "-c", "SELECT 2"],
        Some(ROOT),
    )
    .await;
    assert_eq!(after.ok(), "2\n", "the server stopped serving after malformed input:\n{after}");
    running.stop().await.expect("stops");
}

/// Whether the server has closed `stream` (EOF or reset), without waiting.
fn closed(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    match stream.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_get_the_cap_and_the_server_goes_on() {
    const CAP: usize = 50;
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = postgres_config(data.path());
    config.connections.max_per_peer = CAP;
    let running = isobar::server::start(&config).await.expect("server starts");
    let addr = running.postgres_addr().expect("postgres listener");

    let mut streams = Vec::with_capacity(1000);
    for _ in 0..1000 {
        streams.push(TcpStream::connect(addr).await.expect("the kernel accepts the connection"));
    }
    // The server closes what is past the cap; give it a moment to reach every one.
    let mut open = streams.len();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = streams.iter().filter(|s| !closed(s)).count();
        if open <= CAP {
            break;
        }
    }
    assert_eq!(open, CAP, "connections kept open past the per-address cap of {CAP}");

    // The gRPC listener is not affected: a write and a read go through meanwhile.
    let options = ClientOptions { token: Some(ROOT.into()), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("gRPC still serves");
    create_weather(&mut client).await;

    drop(streams);
    let port = addr.port().to_string();
    let mut served = None;
    for _ in 0..50 {
        let run = run_psql(
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "root",
                "-d",
                "isobar",
                "-A",
                "-t",
                "-c",
                r"SELECT count(*) FROM weather",
            ],
            Some(ROOT),
        )
        .await;
        if run.code == Some(0) {
            served = Some(run.stdout);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(served.as_deref(), Some("0\n"), "the front end did not serve again after the flood");
    running.stop().await.expect("stops");
}

/// `[sql]`'s bounds hold over the PostgreSQL protocol: a query past `timeout` ends with
/// `57014`, one past `memory_limit` with `53200`, and the connection answers the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_bounds_hold_over_postgres() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = postgres_config(data.path());
    config.sql.timeout = isobar::config::DurationValue(Duration::from_secs(1));
    config.sql.memory_limit = isobar::config::ByteSize(1 << 20);
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: Some(ROOT.into()), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("client connects");
    create_weather(&mut client).await;
    let rows = 20_000i64;
    let ts = (0..rows).map(|i| 1_700_000_000_000_000_000 + i * 1_000_000).collect();
    let temps = (0..rows).map(|i| i as f64).collect();
    client.ingest.write(one_batch("weather", "BIG", ts, vec![f64_column("temp", temps)])).await.expect("written");

    let port = running.postgres_addr().expect("postgres listener").port().to_string();
    let conn = ["-h", "127.0.0.1", "-p", port.as_str(), "-U", "root", "-d", "isobar", "-A", "-t"];
    let with = |sql: &'static str| {
        let mut args = conn.to_vec();
        args.extend(["-c", sql, "-c", "SELECT 7"]);
        args
    };
    let slow = run_psql(
        &with("SELECT count(*) FROM weather.env a CROSS JOIN weather.env b CROSS JOIN weather.env c"),
        Some(ROOT),
    )
    .await;
    assert_eq!(slow.code, Some(1), "{slow}");
    assert!(slow.stderr.contains("57014"), "a query past sql.timeout: {slow}");

    let hungry =
        run_psql(&with("SELECT series, array_agg(temp ORDER BY ts) FROM weather.env GROUP BY series"), Some(ROOT))
            .await;
    assert_eq!(hungry.code, Some(1), "{hungry}");
    assert!(hungry.stderr.contains("53200"), "a query past sql.memory_limit: {hungry}");

    let fine = run_psql(&[&conn[..], &["-c", "SELECT 7"]].concat(), Some(ROOT)).await;
    assert_eq!(fine.ok(), "7\n", "{fine}");
    running.stop().await.expect("stops");
}
