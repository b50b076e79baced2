//! Online backup over real gRPC on loopback: a snapshot taken while several writers keep
//! writing holds every write acknowledged before `CreateSnapshot` was sent, restores with
//! `isobar restore` into a database that opens cleanly, and the source keeps taking writes
//! throughout. Snapshots are listed, verified and deleted; a damaged file fails `VerifySnapshot`
//! and `isobar restore` with a message naming it.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use common::{config, create_weather, f64_column, one_batch, row_count, rows_f64, scan_all, serve};
use isobar_proto::v1 as pb;
use isobar_storage::{Db, Options, ScanRequest};
use tonic::Code;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");
const WRITERS: usize = 4;
const ROWS_PER_WRITE: i64 = 5;
/// Upper bound on the writes of one writer, so the test ends whatever happens.
const MAX_WRITES: i64 = 20_000;

/// Rows of one series of a restored database, as (ts, temp), sorted by ts.
fn restored_rows(dir: &Path, series: &str) -> Vec<(i64, f64)> {
    let db = Db::open(dir, Options::default()).expect("restored database opens");
    let request = ScanRequest::new("weather").columns(["env.temp"]);
    let batches = db.scan(&request).expect("scan of the restored database");
    let rows: Vec<(i64, f64)> = rows_f64(&batches, "env.temp")
        .into_iter()
        .filter(|(s, _, _)| s == series)
        .map(|(_, ts, v)| (ts, v.expect("temp set")))
        .collect();
    db.close().expect("restored database closes");
    rows
}

/// Runs `isobar restore`; answers (success, stdout + stderr).
fn restore(snapshot: &Path, data_dir: &Path) -> (bool, String) {
    let out = Command::new(BIN).arg("restore").arg(snapshot).arg("--data-dir").arg(data_dir).output().expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_during_ingest_holds_every_acknowledged_write_and_restores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut client) = serve(&config(&dir.path().join("data"))).await;
    create_weather(&mut client).await;

    // Each writer writes series w<k> with ts 0, 1, 2, ... (temp = ts) and publishes how many rows
    // the server acknowledged.
    let acked: Arc<Vec<AtomicI64>> = Arc::new((0..WRITERS).map(|_| AtomicI64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for k in 0..WRITERS {
        let (mut client, acked, stop) = (client.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..MAX_WRITES {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let ts: Vec<i64> = (i * ROWS_PER_WRITE..(i + 1) * ROWS_PER_WRITE).collect();
                let temps = ts.iter().map(|t| *t as f64).collect();
                let request = one_batch("weather", &format!("w{k}"), ts, vec![f64_column("temp", temps)]);
                client.ingest.write(request).await.expect("write accepted during the snapshot");
                acked[k].store((i + 1) * ROWS_PER_WRITE, Ordering::Release);
            }
        }));
    }
    let load = |acked: &[AtomicI64]| acked.iter().map(|a| a.load(Ordering::Acquire)).collect::<Vec<_>>();
    // Let every writer get going (bounded: each makes progress or the test fails on its join).
    for _ in 0..10_000 {
        if load(&acked).iter().all(|n| *n >= 50) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let before = load(&acked);
    let created = client
        .admin
        .create_snapshot(pb::CreateSnapshotRequest { name: Some("during_ingest".into()) })
        .await
        .expect("snapshot created while writers run")
        .into_inner();
    let at_return = load(&acked);
    // The source keeps taking writes after the snapshot.
    for _ in 0..10_000 {
        if load(&acked).iter().zip(&at_return).all(|(now, then)| *now >= then + 10 * ROWS_PER_WRITE) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Release);
    for w in writers {
        w.await.expect("writer finished without error");
    }
    let total = load(&acked);
    for k in 0..WRITERS {
        assert!(total[k] >= at_return[k] + 10 * ROWS_PER_WRITE, "writer {k} kept writing after the snapshot");
    }
    eprintln!("acknowledged rows per writer: before {before:?}, at snapshot return {at_return:?}, total {total:?}");

    let snap = created.snapshot.expect("snapshot info");
    assert_eq!(snap.name, "during_ingest");
    assert!(snap.files > 0 && snap.bytes > 0 && snap.sequence > 0, "{snap:?}");
    assert_eq!(snap.tables, vec!["weather".to_owned()]);
    assert_eq!(created.linked + created.copied, created.linked, "same file system: SSTables are linked");

    // The source answers every acknowledged write.
    let source_rows = row_count(&scan_all(&mut client, "weather", &["env.temp"]).await) as i64;
    assert_eq!(source_rows, total.iter().sum::<i64>());
    server.stop().await.expect("server stops");

    // Restore with the real binary into a new directory and open it.
    let restored = dir.path().join("restored");
    let (ok, text) = restore(&dir.path().join("data/snapshots/during_ingest"), &restored);
    assert!(ok, "restore failed: {text}");
    assert!(text.contains("weather") && text.contains(&format!("sequence {}", snap.sequence)), "{text}");
    for k in 0..WRITERS {
        let rows = restored_rows(&restored, &format!("w{k}"));
        assert!(rows.len() as i64 >= before[k], "writer {k}: {} rows restored, {} acked before", rows.len(), before[k]);
        assert!(rows.len() as i64 <= total[k], "writer {k}: no row that was never written");
        for (i, (ts, temp)) in rows.iter().enumerate() {
            assert_eq!((*ts, *temp), (i as i64, i as f64), "writer {k}: restored rows are a gap-free prefix");
        }
    }
    // Restoring over a non-empty directory is refused.
    let (ok, text) = restore(&dir.path().join("data/snapshots/during_ingest"), &restored);
    assert!(!ok && text.contains("not empty"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_listed_verified_deleted_and_damage_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut client) = serve(&config(&dir.path().join("data"))).await;
    create_weather(&mut client).await;
    let write = one_batch("weather", "s", (0..100).collect(), vec![f64_column("temp", vec![1.5; 100])]);
    client.ingest.write(write).await.expect("write");
    let admin = &mut client.admin;

    let named = admin.create_snapshot(pb::CreateSnapshotRequest { name: Some("nightly".into()) }).await.unwrap();
    let default = admin.create_snapshot(pb::CreateSnapshotRequest { name: None }).await.unwrap().into_inner();
    let default_name = default.snapshot.expect("info").name;
    assert!(default_name.ends_with('Z') && default_name.contains('T'), "UTC timestamp name: {default_name}");
    assert_eq!(named.into_inner().path, "nightly", "relative to the snapshot directory, no server path");
    let again = admin.create_snapshot(pb::CreateSnapshotRequest { name: Some("nightly".into()) }).await;
    assert_eq!(again.expect_err("duplicate name").code(), Code::AlreadyExists);

    let list = admin.list_snapshots(pb::ListSnapshotsRequest { verify: true }).await.unwrap().into_inner();
    let mut names: Vec<&str> = list.snapshots.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    let mut expected = vec![default_name.as_str(), "nightly"];
    expected.sort_unstable();
    assert_eq!(names, expected);
    for s in &list.snapshots {
        assert_eq!(s.verified, Some(true), "{s:?}");
        assert!(s.files >= 3 && s.bytes > 0 && s.created_ns > 0 && s.problem.is_empty(), "{s:?}");
    }
    let verified = admin.verify_snapshot(pb::VerifySnapshotRequest { name: "nightly".into() }).await.unwrap();
    assert_eq!(verified.into_inner().snapshot.expect("info").verified, Some(true));

    // Damage one SSTable of the snapshot (replacing the link, so the source's file is untouched).
    let snap_dir = dir.path().join("data/snapshots/nightly");
    let sst = std::fs::read_dir(snap_dir.join("sst")).unwrap().next().expect("an sst").unwrap().path();
    let file_name = sst.file_name().unwrap().to_string_lossy().into_owned();
    let mut bytes = std::fs::read(&sst).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::remove_file(&sst).unwrap();
    std::fs::write(&sst, bytes).unwrap();

    let err = admin.verify_snapshot(pb::VerifySnapshotRequest { name: "nightly".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::DataLoss, "{err:?}");
    assert!(err.message().contains(&file_name) && err.message().contains("checksum mismatch"), "{}", err.message());
    let list = admin.list_snapshots(pb::ListSnapshotsRequest { verify: true }).await.unwrap().into_inner();
    let bad = list.snapshots.iter().find(|s| s.name == "nightly").expect("listed");
    assert_eq!(bad.verified, Some(false));
    assert!(bad.problem.contains(&file_name), "{}", bad.problem);
    let (ok, text) = restore(&snap_dir, &dir.path().join("from_damaged"));
    assert!(!ok && text.contains(&file_name) && text.contains("checksum mismatch"), "{text}");
    assert!(!dir.path().join("from_damaged").exists(), "a refused restore creates nothing");

    // The source is untouched and still serves every row.
    assert_eq!(row_count(&scan_all(&mut client, "weather", &["env.temp"]).await), 100);

    let admin = &mut client.admin;
    let deleted = admin.delete_snapshot(pb::DeleteSnapshotRequest { name: "nightly".into() }).await.unwrap();
    assert!(deleted.into_inner().bytes > 0);
    assert!(!snap_dir.exists());
    let list = admin.list_snapshots(pb::ListSnapshotsRequest { verify: false }).await.unwrap().into_inner();
    assert_eq!(list.snapshots.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec![default_name.as_str()]);
    assert_eq!(list.snapshots[0].verified, None);
    let gone = admin.delete_snapshot(pb::DeleteSnapshotRequest { name: "nightly".into() }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let gone = admin.verify_snapshot(pb::VerifySnapshotRequest { name: "nightly".into() }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    server.stop().await.expect("server stops");
}
