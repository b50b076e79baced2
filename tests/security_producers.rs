//! Security (issue 20, finding 4): producers belong to the identity that uses them. Through the
//! real server with authentication on and two writers: another writer cannot read a producer's
//! mark with `Resume` (it gets the answer of an unknown id) nor move it by writing under the same
//! id to its own table, so the real producer's next batch is applied, not answered `duplicate`.

mod common;

use common::*;
use isobar::auth::{Permission, hash_secret};
use isobar::client::{Client, ClientOptions};
use isobar::config::{Config, TokenConfig};
use isobar::server::Running;
use isobar_proto::v1 as pb;

const T0: i64 = 1_700_000_000_000_000_000;

/// `(name, secret, table it may write)`; `root` may do anything.
const TOKENS: &[(&str, &str, &str)] =
    &[("root", "secret-root", "*"), ("gateway", "secret-gateway", "weather"), ("intruder", "secret-intruder", "other")];

fn auth_config(dir: &std::path::Path) -> Config {
    let mut config = config(dir);
    config.auth.enabled = true;
    config.auth.tokens = TOKENS
        .iter()
        .map(|(name, secret, table)| TokenConfig {
            name: (*name).into(),
            sha256: hash_secret(secret),
            grants: [((*table).to_owned(), vec![if *table == "*" { Permission::Admin } else { Permission::Write }])]
                .into_iter()
                .collect(),
        })
        .collect();
    config
}

async fn client(running: &Running, secret: &str) -> Client {
    let options = ClientOptions { token: Some(secret.to_owned()), ..ClientOptions::default() };
    Client::connect_with(&running.url(), &options).await.expect("client connects")
}

/// Batch `seq` of producer `id` into `table`: one row at T0 + seq.
fn batch(table: &str, id: &str, seq: u64) -> pb::WriteRequest {
    let mut r = one_batch(table, "station=P", vec![T0 + (seq % 1000) as i64], vec![f64_column("temp", vec![1.0])]);
    r.producer_id = id.into();
    r.producer_seq = seq;
    r
}

async fn resume(client: &mut Client, id: &str) -> pb::ResumeResponse {
    client.ingest.resume(pb::ResumeRequest { producer_id: id.into() }).await.expect("resume").into_inner()
}

/// A server with `weather` and `other` (same schema) and clients for root, gateway, intruder.
async fn setup(dir: &std::path::Path) -> (Running, Client, Client, Client) {
    let (running, _) = serve(&auth_config(dir)).await;
    let mut root = client(&running, "secret-root").await;
    create_weather(&mut root).await;
    let other = pb::TableSpec { name: "other".into(), ..weather_spec() };
    root.admin.create_table(pb::CreateTableRequest { table: Some(other), if_not_exists: false }).await.expect("other");
    let gateway = client(&running, "secret-gateway").await;
    let intruder = client(&running, "secret-intruder").await;
    (running, root, gateway, intruder)
}

fn rows(batches: &[arrow_array::RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_identity_cannot_move_a_producers_mark_and_its_next_batch_is_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_running, mut root, mut gateway, mut intruder) = setup(dir.path()).await;

    let first = gateway.ingest.write(batch("weather", "gw-a", 1)).await.expect("gateway writes").into_inner();
    assert!(!first.duplicate);
    // The hijack of the issue: a huge seq under the gateway's id, into the intruder's own table.
    let hijack = intruder.ingest.write(batch("other", "gw-a", 1_000_000_000_000_000_000)).await.expect("own table");
    assert_eq!(hijack.into_inner().producer_applied_seq, 1_000_000_000_000_000_000);

    let next = gateway.ingest.write(batch("weather", "gw-a", 2)).await.expect("gateway writes").into_inner();
    assert!(!next.duplicate, "the real producer's next batch must be applied: {next:?}");
    assert_eq!((next.rows, next.producer_applied_seq), (1, 2));
    assert_eq!(rows(&scan_all(&mut root, "weather", &["env.temp"]).await), 2, "both gateway batches are stored");
    assert_eq!(resume(&mut gateway, "gw-a").await, pb::ResumeResponse { applied_seq: 2, known: true });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_of_another_identitys_producer_reveals_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_running, _root, mut gateway, mut intruder) = setup(dir.path()).await;
    gateway.ingest.write(batch("weather", "gw-a", 41)).await.expect("gateway writes");

    let unknown = resume(&mut intruder, "never-used").await;
    assert_eq!(unknown, pb::ResumeResponse { applied_seq: 0, known: false });
    assert_eq!(resume(&mut intruder, "gw-a").await, unknown, "the same answer as an unknown id");
    assert_eq!(resume(&mut gateway, "gw-a").await, pb::ResumeResponse { applied_seq: 41, known: true });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_identity_cannot_take_more_producers_than_its_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = auth_config(dir.path());
    config.storage.max_producers_per_owner = 3;
    let (running, _) = serve(&config).await;
    let mut root = client(&running, "secret-root").await;
    create_weather(&mut root).await;
    let other = pb::TableSpec { name: "other".into(), ..weather_spec() };
    root.admin.create_table(pb::CreateTableRequest { table: Some(other), if_not_exists: false }).await.expect("other");
    let mut gateway = client(&running, "secret-gateway").await;
    let mut intruder = client(&running, "secret-intruder").await;

    for i in 0..3 {
        intruder.ingest.write(batch("other", &format!("p{i}"), 1)).await.expect("within the cap");
    }
    let refused = intruder.ingest.write(batch("other", "p3", 1)).await.expect_err("a fourth producer");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("storage.max_producers_per_owner"), "{}", refused.message());
    // The stream form is refused the same way.
    let acks = intruder.ingest.producer_stream(tokio_stream::iter(vec![batch("other", "p4", 1)])).await;
    let refused = match acks {
        Ok(response) => {
            let mut stream = response.into_inner();
            stream.message().await.expect_err("the message is refused")
        }
        Err(status) => status,
    };
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    assert_eq!(running.db().stats().points_written, 3, "the refused writes applied nothing");

    // Its known producers write on; another identity is not affected.
    intruder.ingest.write(batch("other", "p0", 2)).await.expect("a known producer");
    for i in 0..3 {
        gateway.ingest.write(batch("weather", &format!("gw{i}"), 1)).await.expect("another identity");
    }
    running.stop().await.expect("stops");
}
