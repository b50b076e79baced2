//! Interoperability of the PostgreSQL wire-protocol front end with PostgreSQL's own terminal
//! client, Debian's `psql` (package `postgresql-client`, installed by `scripts/test.sh`): its
//! catalog commands (`\dt`, `\dn`, `\d`), `\copy` and CSV output, errors with their SQLSTATE,
//! and the password refusals, with the exit statuses psql documents (0 ok, 1 an error of a
//! command, 2 no connection).
//!
//! Every run is `psql -h 127.0.0.1 -p PORT -U root -d isobar -X -w`: no `.psqlrc`, never a
//! password prompt (the password, when any, comes from `PGPASSWORD`), and none of the caller's
//! libpq environment variables.

mod common;

use common::psql::{Psql, run_psql};
use common::*;
use isobar::auth::Permission;
use isobar::client::{Client, ClientOptions};
use isobar::server::Running;

/// 2023-11-14 22:13:20 UTC.
const T0: i64 = 1_700_000_000_000_000_000;
/// The root token's secret: the password of user `root`.
const ROOT: &str = "secret-root";

/// The known rows of `weather.env` ordered by ts, as PostgreSQL prints them in CSV: timestamptz
/// in ISO style at UTC without fractional seconds when there are none, float8 in its shortest
/// form (`12`, not `12.0`), NULL as an empty field.
const CSV_ROWS: &str = "\
KSEA,2023-11-14 22:13:20+00,11.5
KSEA,2023-11-14 22:13:21+00,12
KPDX,2023-11-14 22:13:22+00,
";

/// Runs `psql` against `port` as user `root` on database `database`, with `password` in
/// `PGPASSWORD` when given, then `args` (commands as `-c`, options).
async fn psql_on(port: u16, database: &str, password: Option<&str>, args: &[&str]) -> Psql {
    let port = port.to_string();
    let mut all = vec!["-h", "127.0.0.1", "-p", port.as_str(), "-U", "root", "-d", database];
    all.extend_from_slice(args);
    run_psql(&all, password).await
}

/// `psql_on` database `isobar` with the root token as password.
async fn psql(port: u16, args: &[&str]) -> Psql {
    psql_on(port, "isobar", Some(ROOT), args).await
}

/// A server with the PostgreSQL front end on a loopback port, authentication on (`auth`: token
/// `root` = `ROOT`, admin of every table) or off, and table `weather` holding KSEA at `T0`
/// (temp 11.5, code 1) and `T0 + 1s` (12.0, 2) and KPDX at `T0 + 2s` (temp NULL, code 3).
async fn serve_weather(data: &std::path::Path, auth: bool) -> (Running, u16) {
    let mut config = config(data);
    config.postgres.enabled = true;
    config.postgres.listen = "127.0.0.1:0".parse().expect("address");
    if auth {
        config.auth.enabled = true;
        config.auth.tokens = vec![token("root", ROOT, "*", Permission::Admin)];
    }
    let running = isobar::server::start(&config).await.expect("server starts");
    let options = ClientOptions { token: auth.then(|| ROOT.to_owned()), ..ClientOptions::default() };
    let mut client = Client::connect_with(&running.url(), &options).await.expect("client connects");
    create_weather(&mut client).await;
    write_known_weather_rows(&mut client, T0).await;
    let port = running.postgres_addr().expect("the PostgreSQL listener is bound").port();
    (running, port)
}

/// psql's catalog commands, which run psql's own queries over `pg_catalog`: `\dt` lists the
/// table relation `weather` in schema `public`, `\dn` lists schemas `public` and `weather`, and
/// `\d weather.env` describes the family relation's columns with PostgreSQL's type names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_relations_schemas_and_columns() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, port) = serve_weather(data.path(), true).await;

    let dt = psql(port, &["-c", r"\dt"]).await;
    dt.ok();
    assert!(dt.has_line(&["public", "weather"]), "\\dt does not list public.weather:\n{dt}");

    let dn = psql(port, &["-c", r"\dn"]).await;
    dn.ok();
    assert!(dn.has_line(&["public"]) && dn.has_line(&["weather"]), "\\dn does not list public and weather:\n{dn}");

    let d = psql(port, &["-c", r"\d weather.env"]).await;
    d.ok();
    assert!(d.has_line(&["weather.env"]), "\\d names no relation weather.env:\n{d}");
    assert!(d.has_line(&["series", "text"]), "\\d weather.env: no series text:\n{d}");
    assert!(d.has_line(&["ts", "timestamp with time zone"]), "\\d weather.env: no ts timestamptz:\n{d}");
    assert!(d.has_line(&["temp", "double precision"]), "\\d weather.env: no temp double precision:\n{d}");
    assert!(d.has_line(&["code", "bigint"]), "\\d weather.env: no code bigint:\n{d}");
    running.stop().await.expect("stops");
}

/// `\copy (query) to stdout csv` (psql sends `COPY (...) TO STDOUT csv` and reads the copy-out
/// stream) and `--csv` query output print the rows exactly as PostgreSQL would: timestamptz as
/// `2023-11-14 22:13:20+00`, float8 shortest (`12`), NULL as an empty field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copies_and_prints_csv_as_postgres_does() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, port) = serve_weather(data.path(), true).await;

    let copy = psql(port, &["-c", r"\copy (SELECT series, ts, temp FROM weather.env ORDER BY ts) to stdout csv"]).await;
    assert_eq!(copy.ok(), CSV_ROWS, "\\copy printed other text:\n{copy}");

    let csv = psql(port, &["--csv", "-c", "SELECT series, ts, temp FROM weather.env ORDER BY ts"]).await;
    assert_eq!(csv.ok(), format!("series,ts,temp\n{CSV_ROWS}"), "--csv printed other text:\n{csv}");

    let count = psql(port, &["-A", "-t", "-c", "SELECT count(*) FROM weather.env WHERE temp IS NULL"]).await;
    assert_eq!(count.ok(), "1\n", "{count}");
    running.stop().await.expect("stops");
}

/// A statement that fails ends psql with status 1 and prints the server's `ERROR` with its
/// SQLSTATE on stderr (VERBOSITY verbose): an unknown table (42P01, naming it), a syntax error
/// (42601), a division by zero; a later connection works as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_reports_errors_with_their_sqlstate() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, port) = serve_weather(data.path(), true).await;

    let unknown = psql(port, &["-c", "SELECT * FROM weather.nope"]).await;
    assert_eq!(unknown.code, Some(1), "{unknown}");
    assert!(
        unknown.stderr.contains("ERROR:") && unknown.stderr.contains("42P01") && unknown.stderr.contains("nope"),
        "an unknown table: no ERROR 42P01 naming it on stderr:\n{unknown}"
    );

    let syntax = psql(port, &["-c", "SELEC 1"]).await;
    assert_eq!(syntax.code, Some(1), "{syntax}");
    assert!(syntax.stderr.contains("ERROR:") && syntax.stderr.contains("42601"), "a syntax error:\n{syntax}");

    let zero = psql(port, &["-c", "SELECT 1/0"]).await;
    assert_eq!(zero.code, Some(1), "{zero}");
    assert!(zero.stderr.contains("ERROR:"), "a division by zero:\n{zero}");

    // ON_ERROR_STOP: the statement after a failing one does not run; psql still exits 1.
    let stopped = psql(port, &["-c", "SELECT * FROM weather.nope", "-c", "SELECT 'not reached'"]).await;
    assert_eq!(stopped.code, Some(1), "{stopped}");
    assert!(!stopped.stdout.contains("not reached"), "ON_ERROR_STOP did not stop:\n{stopped}");

    let after = psql(port, &["-A", "-t", "-c", "SELECT count(*) FROM weather.env"]).await;
    assert_eq!(after.ok(), "3\n", "{after}");
    running.stop().await.expect("stops");
}

/// With authentication on, psql without the right token gets no connection (status 2): a wrong
/// `PGPASSWORD` is refused with `password authentication failed`, no password at all fails
/// (the server asks for one and psql may not prompt), and a database other than `isobar` is
/// refused even with the right password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_refuses_a_wrong_or_missing_password_and_other_databases() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, port) = serve_weather(data.path(), true).await;

    let wrong = psql_on(port, "isobar", Some("not-the-token"), &["-c", "SELECT 1"]).await;
    assert_eq!(wrong.code, Some(2), "{wrong}");
    assert!(wrong.stderr.contains("password authentication failed"), "a wrong password:\n{wrong}");

    let missing = psql_on(port, "isobar", None, &["-c", "SELECT 1"]).await;
    assert_eq!(missing.code, Some(2), "{missing}");
    assert!(missing.stderr.contains("no password supplied"), "no password:\n{missing}");

    let other = psql_on(port, "postgres", Some(ROOT), &["-c", "SELECT 1"]).await;
    assert_eq!(other.code, Some(2), "{other}");
    assert!(other.stderr.contains("FATAL"), "database postgres:\n{other}");

    let right = psql(port, &["-A", "-t", "-c", "SELECT 1"]).await;
    assert_eq!(right.ok(), "1\n", "{right}");
    running.stop().await.expect("stops");
}

/// With authentication off, psql connects without any password and queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_connects_without_a_password_when_auth_is_off() {
    let data = tempfile::tempdir().expect("tempdir");
    let (running, port) = serve_weather(data.path(), false).await;

    let count = psql_on(port, "isobar", None, &["-A", "-t", "-c", "SELECT count(*) FROM weather.env"]).await;
    assert_eq!(count.ok(), "3\n", "{count}");
    running.stop().await.expect("stops");
}
