//! Security (issue 20, finding 5): a write adding 100,000 new columns to a dynamic-column table
//! (a 2.7 MB request that once held the write lock for minutes) is refused by the column limits
//! (`storage.max_new_columns_per_request`, else `storage.max_columns_per_table`) with
//! `RESOURCE_EXHAUSTED` naming the key, and changes nothing, while a 1-row write to another
//! table sent at the same time succeeds. Real server on loopback, default limits.

mod common;

use common::*;
use isobar::config::{ByteSize, Config};
use isobar::server::Running;
use isobar_proto::v1 as pb;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;
const NEW_COLUMNS: usize = 100_000;

/// Default limits, with gRPC messages large enough to carry the wide write.
fn wide_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.server.max_message_bytes = ByteSize(16 << 20);
    config
}

/// One row of `wide` carrying `NEW_COLUMNS` columns nobody declared.
fn wide_write() -> pb::WriteRequest {
    let columns = (0..NEW_COLUMNS).map(|i| f64_column(&format!("c{i}"), vec![i as f64])).collect();
    one_batch("wide", "s", vec![T0], columns)
}

/// Sends the wide write and, at the same time, a 1-row write to `weather`; checks both outcomes
/// and that the wide write changed nothing. Returns the refusal's message.
async fn wide_and_narrow_together(running: &Running, round: i64) -> String {
    let mut wide_client = isobar::client::Client::connect(&running.url()).await.expect("connects");
    let mut narrow_client = isobar::client::Client::connect(&running.url()).await.expect("connects");
    let wide = tokio::spawn(async move { wide_client.ingest.write(wide_write()).await });
    let narrow = tokio::spawn(async move {
        let row = one_batch("weather", "station=N", vec![T0 + round], vec![f64_column("temp", vec![1.5])]);
        narrow_client.ingest.write(row).await
    });
    let (wide, narrow) = (wide.await.expect("task"), narrow.await.expect("task"));
    narrow.expect("the 1-row write to another table succeeds");
    let refused = wide.expect_err("100,000 new columns are refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");

    let def = running.db().table_def("wide").expect("wide");
    let columns: Vec<&str> = def.families.iter().flat_map(|f| f.columns.iter().map(|c| c.name.as_str())).collect();
    assert_eq!(columns, ["temp", "code", "note"], "the refused write added no column");
    let mut reader = isobar::client::Client::connect(&running.url()).await.expect("connects");
    assert!(scan_all(&mut reader, "wide", &["env.temp"]).await.iter().all(|b| b.num_rows() == 0), "no row");
    let weather = scan_all(&mut reader, "weather", &["env.temp"]).await;
    assert_eq!(weather.iter().map(|b| b.num_rows()).sum::<usize>(), usize::try_from(round).expect("round"));
    refused.message().to_owned()
}

async fn setup(config: &Config) -> (Running, isobar::client::Client) {
    let (running, mut client) = serve(config).await;
    create_weather(&mut client).await;
    let wide = pb::TableSpec { name: "wide".into(), dynamic_columns: true, ..weather_spec() };
    client.admin.create_table(pb::CreateTableRequest { table: Some(wide), if_not_exists: false }).await.expect("wide");
    (running, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100000_column_write_is_refused_while_another_table_takes_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _client) = setup(&wide_config(dir.path())).await;
    let message = wide_and_narrow_together(&running, 1).await;
    assert!(message.contains("storage.max_new_columns_per_request"), "names the key: {message}");
    running.stop().await.expect("stops");

    // With the per-request limit out of the way, the per-table limit refuses it.
    let mut config = wide_config(dir.path());
    config.storage.max_new_columns_per_request = 1_000_000;
    let running = isobar::server::start(&config).await.expect("restarts");
    let message = wide_and_narrow_together(&running, 2).await;
    assert!(message.contains("storage.max_columns_per_table"), "names the key: {message}");
    running.stop().await.expect("stops");
}
