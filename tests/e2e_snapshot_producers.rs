//! End to end, against real `isobar serve` processes on loopback: idempotent producers stream
//! batches on `Ingest.ProducerStream` while `isobar snapshot create` runs; the snapshot is
//! restored with `isobar restore` and served; each producer asks `Resume` for its mark and
//! re-sends everything from its own start with other values. Every batch is then present exactly
//! once, in both families: the ones the snapshot held with their first values (the re-sends were
//! duplicates), the others with the re-sent ones. A mark ahead of the snapshot's rows would lose
//! batches (re-sent as duplicates, never applied); a mark behind them would apply batches twice.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{create_weather, f64_column};
use isobar::client::Client;
use isobar_proto::v1 as pb;
use isobar_testkit::rows::{V, rows};
use isobar_testkit::server::ServerCommand;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const PRODUCERS: u64 = 3;
/// Upper bound on the batches of one producer, so the test ends whatever happens.
const MAX_BATCHES: u64 = 20_000;
const T0: i64 = 1_700_000_000_000_000_000;
/// Batch `k` writes ts `T0 + k * TS_PER_BATCH + j` for `j < rows_of_batch(p, k)`.
const TS_PER_BATCH: i64 = 4;
const SEED: u64 = 0x5eed_0019_c0de_0001;

fn rows_of_batch(p: u64, k: u64) -> usize {
    let mut x = SEED ^ (p << 40) ^ k;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    1 + ((x ^ (x >> 31)) % 3) as usize
}

fn producer_id(p: u64) -> String {
    format!("mast-{p}.uplink")
}

/// Batch `k` of producer `p`: series `mast-<p>`, `env.temp = sign * k`, `meta.note = <label>`.
fn batch(p: u64, k: u64, sign: f64, label: &str) -> pb::WriteRequest {
    let n = rows_of_batch(p, k);
    let ts: Vec<i64> = (0..n as i64).map(|j| T0 + k as i64 * TS_PER_BATCH + j).collect();
    let note = pb::Column {
        family: "meta".into(),
        name: "note".into(),
        values: Some(pb::column::Values::StringValues(pb::StringValues { values: vec![format!("{label}:{k}"); n] })),
        validity: Vec::new(),
        nulls: Vec::new(),
    };
    let mut r = common::one_batch(
        "weather",
        &format!("mast-{p}"),
        ts,
        vec![f64_column("temp", vec![sign * k as f64; n]), note],
    );
    r.producer_id = producer_id(p);
    r.producer_seq = k;
    r
}

/// Streams batches 1, 2, ... of producer `p` on one ProducerStream until `stop` (at most
/// [`MAX_BATCHES`]), publishing the highest acknowledged seq in `acked`; returns it once every
/// batch sent is answered.
async fn produce_until(mut client: Client, p: u64, stop: Arc<AtomicBool>, acked: Arc<AtomicU64>) -> u64 {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let feeder = tokio::spawn(async move {
        for k in 1..=MAX_BATCHES {
            if stop.load(Ordering::Acquire) || tx.send(batch(p, k, 1.0, "first")).await.is_err() {
                break;
            }
        }
    });
    let mut acks = client.ingest.producer_stream(ReceiverStream::new(rx)).await.expect("stream opens").into_inner();
    let mut last = 0;
    while let Some(ack) = acks.next().await {
        let ack = ack.expect("every batch is acknowledged during the snapshot");
        assert!(!ack.duplicate, "producer {p}: batch {} sent once", last + 1);
        assert_eq!(ack.producer_applied_seq, last + 1, "producer {p}: answers in order");
        last = ack.producer_applied_seq;
        acked.store(last, Ordering::Release);
    }
    feeder.await.expect("feeder");
    last
}

/// Runs the `isobar` binary with `args`; answers (success, stdout + stderr).
fn isobar(args: Vec<OsString>) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().expect("isobar runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `(ts -> (temp, note))` of every row of series `mast-<p>`, and how often each ts came back.
async fn rows_of(client: &mut Client, p: u64) -> (BTreeMap<i64, (V, V)>, BTreeMap<i64, usize>) {
    let request = pb::ScanRequest {
        table: "weather".into(),
        selector: common::exact(&format!("mast-{p}")),
        columns: vec!["env.temp".into(), "meta.note".into()],
        ..Default::default()
    };
    let stream = client.query.scan(request).await.expect("scan starts").into_inner();
    let batches = isobar::client::collect(stream).await.expect("scan answer").1;
    let (mut cells, mut seen) = (BTreeMap::new(), BTreeMap::new());
    for row in rows(&batches) {
        let [_, V::I(ts), temp, note] = <[V; 4]>::try_from(row).expect("series, ts, temp, note") else {
            panic!("a row without a ts");
        };
        *seen.entry(ts).or_insert(0) += 1;
        cells.insert(ts, (temp, note));
    }
    (cells, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_resumed_on_a_restored_snapshot_applies_every_batch_exactly_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    // Small memtables: the families freeze and flush at different moments while the snapshot runs.
    let server = ServerCommand::new(BIN, &data)
        .env("ISOBAR_STORAGE_MEMTABLE_SIZE", "64KiB")
        .start_async()
        .await
        .expect("serve starts");
    let url = server.url();
    let mut client = Client::connect(&url).await.expect("client connects");
    create_weather(&mut client).await;

    let stop = Arc::new(AtomicBool::new(false));
    let acked: Vec<Arc<AtomicU64>> = (0..PRODUCERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| tokio::spawn(produce_until(client.clone(), p, stop.clone(), acked[p as usize].clone())))
        .collect();
    let load = || acked.iter().map(|a| a.load(Ordering::Acquire)).collect::<Vec<_>>();
    // Until every producer has `floor[p]` acknowledged or stopped (bounded).
    let wait_for = |floor: Vec<u64>| {
        let load = &load;
        let producers = &producers;
        async move {
            for _ in 0..30_000 {
                let now = load();
                if (0..now.len()).all(|p| now[p] >= floor[p] || producers[p].is_finished()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    wait_for(vec![100; PRODUCERS as usize]).await;
    let before = load();
    let create = ["snapshot", "create", "--name", "during", "--addr", &url].map(OsString::from).to_vec();
    let (ok, text) = tokio::task::spawn_blocking(move || isobar(create)).await.expect("joined");
    assert!(ok, "snapshot create failed: {text}");
    let at_return = load();
    wait_for(at_return.iter().map(|n| n + 50).collect()).await;
    stop.store(true, Ordering::Release);
    let mut total = Vec::new();
    for task in producers {
        total.push(task.await.expect("producer finished without error"));
    }
    eprintln!("acknowledged batches: before the snapshot {before:?}, at its return {at_return:?}, total {total:?}");
    assert!(
        total.iter().zip(&at_return).all(|(t, r)| t > r || *t == MAX_BATCHES),
        "the producers kept writing after the snapshot"
    );
    drop(client);
    let stopped = server.stop_async(Duration::from_secs(60)).await.expect("server stops");
    assert!(stopped.success(), "{stopped}");

    // Restore with the real binary, serve the copy, resume every producer from its own start.
    let restored = tmp.path().join("restored");
    let snapshot = data.join("snapshots").join("during");
    let restore =
        vec!["restore".into(), snapshot.into_os_string(), "--data-dir".into(), restored.clone().into_os_string()];
    let (ok, text) = isobar(restore);
    assert!(ok, "restore failed: {text}");
    let server = ServerCommand::new(BIN, &restored).start_async().await.expect("serve on the restored copy");
    let mut client = Client::connect(&server.url()).await.expect("client connects");
    for p in 0..PRODUCERS {
        let n = total[p as usize];
        let resumed =
            client.ingest.resume(pb::ResumeRequest { producer_id: producer_id(p) }).await.expect("resume").into_inner();
        let mark = resumed.applied_seq;
        assert!(
            mark >= before[p as usize],
            "producer {p}: mark {mark} below {} acknowledged before",
            before[p as usize]
        );
        assert!(mark <= n, "producer {p}: mark {mark} above the {n} batches ever sent");
        assert_eq!(resumed.known, mark > 0);

        let again: Vec<pb::WriteRequest> = (1..=n).map(|k| batch(p, k, -1.0, "again")).collect();
        let mut acks = client.ingest.producer_stream(tokio_stream::iter(again)).await.expect("opens").into_inner();
        let mut k = 0;
        while let Some(ack) = acks.next().await {
            let ack = ack.expect("re-sent batch acknowledged");
            k += 1;
            assert_eq!(ack.duplicate, k <= mark, "producer {p}: re-sent batch {k} with the restored mark {mark}");
        }
        assert_eq!(k, n, "producer {p}: one answer per re-sent batch");

        let (cells, seen) = rows_of(&mut client, p).await;
        let mut want = BTreeMap::new();
        for k in 1..=n {
            let (sign, label) = if k <= mark { (1.0, "first") } else { (-1.0, "again") };
            for j in 0..rows_of_batch(p, k) as i64 {
                let cell = (V::f(sign * k as f64), V::S(format!("{label}:{k}")));
                want.insert(T0 + k as i64 * TS_PER_BATCH + j, cell);
            }
        }
        assert!(seen.values().all(|c| *c == 1), "producer {p}: every (series, ts) once");
        assert_eq!(cells.len(), want.len(), "producer {p}: rows of {n} batches (mark {mark})");
        for (ts, cell) in &want {
            let k = (ts - T0) / TS_PER_BATCH;
            assert_eq!(
                cells.get(ts),
                Some(cell),
                "producer {p}: batch {k} (mark {mark}) present once, in both families"
            );
        }
    }
    drop(client);
    let stopped = server.stop_async(Duration::from_secs(60)).await.expect("restored server stops");
    assert!(stopped.success(), "{stopped}");
}
