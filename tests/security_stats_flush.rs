//! Security (issue 20, low items): `Stats` answers only about tables the caller may read (a
//! token that may read none is refused, and the database-wide counters are only for readers of
//! `*`), and `Flush` naming a table flushes that table's memtables only, so `admin` on one table
//! cannot flush every table. Through the real server with authentication on.

mod common;

use common::*;
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::{Config, TokenConfig};
use isobar::server::Running;
use isobar_proto::v1 as pb;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;

/// `(name, grants)`; the secret is `secret-<name>`.
const TOKENS: &[(&str, &[(&str, Permission)])] = &[
    ("root", &[("*", Permission::Admin)]),
    ("weather-admin", &[("weather", Permission::Admin)]),
    ("weather-reader", &[("weather", Permission::Read)]),
    ("weather-writer", &[("weather", Permission::Write)]),
    ("scraper", &[]),
];

fn auth_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    config.auth.tokens = TOKENS
        .iter()
        .map(|(name, grants)| TokenConfig {
            name: (*name).into(),
            sha256: hash_secret(&format!("secret-{name}")),
            grants: grants.iter().map(|(t, p)| ((*t).to_owned(), vec![*p])).collect(),
        })
        .collect();
    config
}

async fn client(running: &Running, name: &str) -> Client {
    let options = ClientOptions { token: Some(format!("secret-{name}")), ..ClientOptions::default() };
    Client::connect_with(&running.url(), &options).await.expect("client connects")
}

/// A server with `weather` and `other` (same schema), one row written to each; the root client.
async fn setup(dir: &std::path::Path) -> (Running, Client) {
    let running = isobar::server::start(&auth_config(dir)).await.expect("server starts");
    let mut root = client(&running, "root").await;
    create_weather(&mut root).await;
    let other = pb::TableSpec { name: "other".into(), ..weather_spec() };
    root.admin.create_table(pb::CreateTableRequest { table: Some(other), if_not_exists: false }).await.expect("other");
    for table in ["weather", "other"] {
        let write = one_batch(table, "station=A", vec![T0], vec![f64_column("temp", vec![1.0])]);
        root.ingest.write(write).await.expect("seed row");
    }
    (running, root)
}

async fn stats(client: &mut Client, table: &str) -> Result<pb::StatsResponse, tonic::Status> {
    client.admin.stats(pb::StatsRequest { table: table.into() }).await.map(tonic::Response::into_inner)
}

/// SSTables and memtable bytes of `table`, as root sees them.
async fn files_and_memtable(root: &mut Client, table: &str) -> (u64, u64) {
    let all = stats(root, "").await.expect("root stats");
    let entry = all.tables.iter().find(|t| t.table == table).expect("table listed");
    entry.families.iter().fold((0, 0), |(files, mem), f| (files + f.files, mem + f.memtable_bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_of_one_table_flushes_only_that_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut root) = setup(dir.path()).await;
    let mut weather_admin = client(&running, "weather-admin").await;

    let whole = weather_admin.admin.flush(pb::FlushRequest { table: String::new() }).await.expect_err("needs *");
    assert_eq!(whole.code(), Code::PermissionDenied, "{whole:?}");
    assert!(whole.message().contains("\"*\"") && whole.message().contains("admin"), "{}", whole.message());
    let theirs = weather_admin.admin.flush(pb::FlushRequest { table: "other".into() }).await.expect_err("no grant");
    assert_eq!(theirs.code(), Code::PermissionDenied, "{theirs:?}");
    assert_eq!(files_and_memtable(&mut root, "other").await.0, 0, "refusals flush nothing");

    let done = weather_admin.admin.flush(pb::FlushRequest { table: "weather".into() }).await.expect("own table");
    assert!(done.into_inner().files_written >= 1);
    let (weather_files, weather_mem) = files_and_memtable(&mut root, "weather").await;
    assert!(weather_files >= 1 && weather_mem == 0, "weather flushed: {weather_files} files, {weather_mem} B");
    let (other_files, other_mem) = files_and_memtable(&mut root, "other").await;
    assert!(other_files == 0 && other_mem > 0, "other untouched: {other_files} files, {other_mem} B in memory");

    root.admin.flush(pb::FlushRequest { table: String::new() }).await.expect("admin on * flushes all");
    assert!(files_and_memtable(&mut root, "other").await.0 >= 1);
    running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_answer_only_what_the_caller_may_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut root) = setup(dir.path()).await;

    for name in ["scraper", "weather-writer"] {
        let mut c = client(&running, name).await;
        let refused = stats(&mut c, "").await.expect_err("reads no table");
        assert_eq!(refused.code(), Code::PermissionDenied, "{name}: {refused:?}");
        assert!(
            refused.message().contains(name) && refused.message().contains("view permission"),
            "{}",
            refused.message()
        );
        assert_eq!(stats(&mut c, "weather").await.expect_err("no read").code(), Code::PermissionDenied);
    }

    let mut reader = client(&running, "weather-reader").await;
    let answer = stats(&mut reader, "").await.expect("reads weather");
    let tables: Vec<&str> = answer.tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(tables, ["weather"], "only what it may read");
    assert_eq!((answer.wal_bytes, answer.memtable_bytes, answer.last_sequence), (0, 0, 0), "no database-wide counters");
    assert_eq!(stats(&mut reader, "other").await.expect_err("not its table").code(), Code::PermissionDenied);

    let full = stats(&mut root, "").await.expect("root");
    assert_eq!(full.tables.len(), 2);
    assert!(full.last_sequence > 0 && full.memtable_bytes > 0, "readers of * see the counters: {full:?}");
    running.stop().await.expect("stops");
}
