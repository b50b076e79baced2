//! The table lifecycle over gRPC against a real `isobar serve` process: `DropTable` removes the
//! table's files, survives a crash and a restart, never resurrects the dropped table's WAL
//! records, and a table re-created under the same name starts empty; `if_exists` and
//! `if_not_exists` answer without changing anything; `AlterTable` adds a family that is
//! writable and readable at once and after a restart, and a TTL set over gRPC hides expired
//! rows at once and lets compaction drop their files.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{all, f64_column, one_batch, scan_all, weather_spec};
use isobar::client::Client;
use isobar_proto::v1 as pb;
use isobar_testkit::server::{ServerCommand, ServerProcess};
use tonic::Code;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const HOUR: i64 = 3_600_000_000_000;
const T0: i64 = 1_700_000_000_000_000_000;

/// A server on `data` (on `addr` when restarting), and a client of it.
async fn start(data: &Path, addr: Option<std::net::SocketAddr>) -> (ServerProcess, Client) {
    let mut command = ServerCommand::new(BIN, data);
    if let Some(addr) = addr {
        command = command.listen(addr);
    }
    let server = command.start_async().await.expect("serve starts");
    let client = Client::connect(&server.url()).await.expect("client connects");
    (server, client)
}

/// Every SSTable file under the data directory, by path.
fn sst_files(data: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut pending = vec![data.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "sst") {
                out.insert(path);
            }
        }
    }
    out
}

fn spec(name: &str) -> pb::TableSpec {
    pb::TableSpec { name: name.into(), ..weather_spec() }
}

async fn create(
    client: &mut Client,
    table: pb::TableSpec,
    if_not_exists: bool,
) -> Result<pb::CreateTableResponse, tonic::Status> {
    client
        .admin
        .create_table(pb::CreateTableRequest { table: Some(table), if_not_exists })
        .await
        .map(|r| r.into_inner())
}

async fn drop_table(client: &mut Client, table: &str, if_exists: bool) -> Result<bool, tonic::Status> {
    let request = pb::DropTableRequest { table: table.into(), if_exists };
    client.admin.drop_table(request).await.map(|r| r.into_inner().dropped)
}

async fn write_temps(client: &mut Client, table: &str, series: &str, ts: Vec<i64>) {
    let values = ts.iter().map(|t| (*t % 1000) as f64).collect();
    client.ingest.write(one_batch(table, series, ts, vec![f64_column("temp", values)])).await.expect("write");
}

async fn flush(client: &mut Client) {
    client.admin.flush(pb::FlushRequest::default()).await.expect("flush");
}

async fn table_names(client: &mut Client) -> Vec<String> {
    let tables = client.admin.list_tables(pb::ListTablesRequest {}).await.expect("list").into_inner().tables;
    tables.into_iter().map(|t| t.name).collect()
}

async fn rows_of(client: &mut Client, table: &str) -> usize {
    common::row_count(&scan_all(client, table, &["env.temp"]).await)
}

/// Waits (bounded) until none of `files` exists; files are deleted once no reader holds them.
async fn wait_gone(files: &BTreeSet<PathBuf>) {
    for _ in 0..100 {
        if files.iter().all(|f| !f.exists()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<_> = files.iter().filter(|f| f.exists()).collect();
    panic!("files of the dropped table are still there after 10 s: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_table_removes_its_files_survives_restarts_and_a_new_table_of_its_name_starts_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (server, mut client) = start(&data, None).await;
    let addr = server.addr();

    // A neighbour whose files must stay.
    assert!(create(&mut client, spec("other"), false).await.expect("create other").created);
    write_temps(&mut client, "other", "s", vec![T0, T0 + 1]).await;
    flush(&mut client).await;
    let others = sst_files(&data);
    assert!(!others.is_empty());

    // if_not_exists: the first create creates; a second one with another spec changes nothing.
    let first = create(&mut client, spec("weather"), false).await.expect("create weather");
    assert!(first.created);
    let mut different = spec("weather");
    different.families.truncate(1);
    let again = create(&mut client, different.clone(), true).await.expect("if_not_exists answers");
    assert!(!again.created, "{again:?}");
    assert_eq!(again.table, first.table, "the existing table is left unchanged");
    let refused = create(&mut client, different, false).await.expect_err("a second create is refused");
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(refused.message().contains("weather"), "{refused:?}");

    // Flushed rows (files on disk) and rows only in the WAL.
    write_temps(&mut client, "weather", "a", (0..50).map(|i| T0 + i).collect()).await;
    flush(&mut client).await;
    let weather_files: BTreeSet<PathBuf> = sst_files(&data).difference(&others).cloned().collect();
    assert!(!weather_files.is_empty(), "the flush wrote weather's files");
    write_temps(&mut client, "weather", "b", (0..30).map(|i| T0 + HOUR + i).collect()).await;
    assert_eq!(rows_of(&mut client, "weather").await, 80);

    // Drop: files removed, neighbours untouched; if_exists answers for a missing table.
    assert!(drop_table(&mut client, "weather", false).await.expect("drop"));
    wait_gone(&weather_files).await;
    assert!(others.iter().all(|f| f.exists()), "the other table's files stay");
    assert!(!drop_table(&mut client, "weather", true).await.expect("if_exists answers"));
    let missing = drop_table(&mut client, "weather", false).await.expect_err("dropping a missing table fails");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(missing.message().contains("weather"), "{missing:?}");
    let gone = client.query.scan(pb::ScanRequest { table: "weather".into(), selector: all(), ..Default::default() });
    assert_eq!(gone.await.expect_err("no table").code(), Code::NotFound);

    // A crash right after the drop: the WAL still holds weather's rows; replay must skip them.
    server.kill().expect("SIGKILL");
    let (server, mut client) = start(&data, Some(addr)).await;
    assert_eq!(table_names(&mut client).await, ["other"], "the drop survived the crash");
    assert!(weather_files.iter().all(|f| !f.exists()));
    assert_eq!(rows_of(&mut client, "other").await, 2);

    // Re-created under the same name: empty, before and after another crash and a clean restart.
    assert!(create(&mut client, spec("weather"), false).await.expect("re-create").created);
    assert_eq!(rows_of(&mut client, "weather").await, 0, "nothing of the dropped table comes back");
    write_temps(&mut client, "weather", "c", vec![T0 + 5]).await;
    server.kill().expect("SIGKILL");
    let (server, mut client) = start(&data, Some(addr)).await;
    let batches = scan_all(&mut client, "weather", &["env.temp"]).await;
    let rows = common::rows_f64(&batches, "env.temp");
    assert_eq!(rows, [("c".to_owned(), T0 + 5, Some(5.0))], "only the new table's row, after WAL replay");
    server.stop_async(Duration::from_secs(30)).await.expect("clean stop");
    let (server, mut client) = start(&data, Some(addr)).await;
    assert_eq!(rows_of(&mut client, "weather").await, 1);
    assert_eq!(table_names(&mut client).await, ["other", "weather"]);
    server.stop_async(Duration::from_secs(30)).await.expect("clean stop");
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as i64
}

async fn alter(client: &mut Client, table: &str, action: pb::alter_table_action::Action) -> pb::TableInfo {
    let request =
        pb::AlterTableRequest { table: table.into(), actions: vec![pb::AlterTableAction { action: Some(action) }] };
    client.admin.alter_table(request).await.expect("alter").into_inner().table.expect("table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_table_adds_a_family_and_sets_a_ttl_over_grpc() {
    use pb::alter_table_action::Action;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (server, mut client) = start(&data, None).await;
    let addr = server.addr();
    let mut spec = spec("t");
    spec.families.truncate(1); // env only
    create(&mut client, spec, false).await.expect("create");

    // Add a family: writable and readable at once.
    let col = pb::ColumnSpec { name: "rpm".into(), r#type: pb::ColumnType::I64.into() };
    let family = pb::FamilySpec { name: "engine".into(), columns: vec![col], ttl_ns: None };
    let info = alter(&mut client, "t", Action::AddFamily(family)).await;
    assert_eq!(info.families.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["env", "engine"]);
    let rpm = pb::Column {
        family: "engine".into(),
        name: "rpm".into(),
        values: Some(pb::column::Values::I64Values(pb::Int64Values { values: vec![900, 950] })),
        validity: Vec::new(),
        nulls: Vec::new(),
    };
    client.ingest.write(one_batch("t", "truck", vec![T0, T0 + 1], vec![rpm])).await.expect("write the new family");
    let read = |batches: &[arrow_array::RecordBatch]| common::values_i64(batches, "engine.rpm");
    assert_eq!(read(&scan_all(&mut client, "t", &["engine.rpm"]).await), [Some(900), Some(950)]);

    // TTL of one hour on env: a row two hours old disappears at once; a fresh one stays.
    let now = now_ns();
    write_temps(&mut client, "t", "truck", vec![now - 2 * HOUR, now - HOUR / 6]).await;
    flush(&mut client).await;
    assert_eq!(rows_of(&mut client, "t").await, 2, "engine rows at T0 have no env cells");
    let env_rows = |batches: &[arrow_array::RecordBatch]| {
        common::rows_f64(batches, "env.temp").into_iter().filter(|r| r.2.is_some()).count()
    };
    assert_eq!(env_rows(&scan_all(&mut client, "t", &["env.temp"]).await), 2);
    let info =
        alter(&mut client, "t", Action::SetTtl(pb::SetTtl { family: Some("env".into()), ttl_ns: Some(HOUR) })).await;
    assert_eq!(info.families[0].ttl_ns, Some(HOUR), "{info:?}");
    assert_eq!(env_rows(&scan_all(&mut client, "t", &["env.temp"]).await), 1, "the old row is past the TTL");
    let files_before = sst_files(&data);
    let compacted = client.admin.compact(pb::CompactRequest { table: "t".into(), ..Default::default() }).await;
    compacted.expect("compact");
    let files_after = sst_files(&data);
    assert!(files_after.len() <= files_before.len(), "{files_before:?} -> {files_after:?}");

    // After a restart: the family, its rows and the TTL are all still there.
    server.stop_async(Duration::from_secs(30)).await.expect("clean stop");
    let (server, mut client) = start(&data, Some(addr)).await;
    let described = client.admin.describe_table(pb::DescribeTableRequest { table: "t".into() }).await;
    let described = described.expect("describe").into_inner().table.expect("table");
    assert_eq!(described.families[0].ttl_ns, Some(HOUR));
    assert_eq!(described.families[1].name, "engine");
    assert_eq!(read(&scan_all(&mut client, "t", &["engine.rpm"]).await), [Some(900), Some(950)]);
    assert_eq!(env_rows(&scan_all(&mut client, "t", &["env.temp"]).await), 1);
    server.stop_async(Duration::from_secs(30)).await.expect("clean stop");
}
