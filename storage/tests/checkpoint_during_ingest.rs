//! A checkpoint taken during continuous ingest holds every write acknowledged before it began,
//! opens as a database of its own after restore, and its listing catches damaged files. The
//! source keeps taking writes throughout.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{create_tables, f64_write, scan_all};
use isobar_storage::{Db, Options, SeriesSelector, SyncPolicy, TimeRange, restore_checkpoint, verify_checkpoint};

#[test]
fn checkpoint_during_ingest_contains_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { sync: SyncPolicy::None, memtable_size: 16 << 10, ..Options::default() };
    let db = Db::open(dir.path().join("src"), opts).unwrap();
    create_tables(&db);
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, acked, stop) = (db.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(Ordering::Acquire) && i < 200_000 {
                db.write(f64_write("t1", "s", vec![i], "a", "x", vec![i as f64])).unwrap();
                i += 1;
                acked.store(i as u64, Ordering::Release);
            }
        })
    };
    while acked.load(Ordering::Acquire) < 2000 {
        std::thread::yield_now();
    }
    let before = acked.load(Ordering::Acquire);
    let info = db.checkpoint(&dir.path().join("snap")).unwrap();
    let after_checkpoint = acked.load(Ordering::Acquire);
    while acked.load(Ordering::Acquire) < after_checkpoint + 500 {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    assert!(acked.load(Ordering::Acquire) > after_checkpoint, "the source kept taking writes");
    assert!(!info.files.is_empty() && info.tables.len() == 2);

    verify_checkpoint(&dir.path().join("snap")).unwrap();
    restore_checkpoint(&dir.path().join("snap"), &dir.path().join("restored")).unwrap();
    let restored = Db::open(dir.path().join("restored"), Options::default()).unwrap();
    let rows = scan_all(&restored, "t1", &SeriesSelector::All, TimeRange::ALL);
    assert!(rows.len() as u64 >= before, "restored {} rows, {before} were acknowledged before", rows.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.1, i as i64, "rows are a gap-free prefix");
    }
    let restored_count = rows.len() as u64;
    // The restored database takes writes of its own, numbered above every row it holds: an
    // overwrite of a restored cell wins.
    assert!(info.last_seq >= before, "sequence {} below {before} acknowledged writes", info.last_seq);
    restored.write(f64_write("t1", "s", vec![-5, 0], "a", "x", vec![0.0, 99.0])).unwrap();
    let rows = scan_all(&restored, "t1", &SeriesSelector::All, TimeRange::ALL);
    assert_eq!(rows.len() as u64, restored_count + 1);
    let overwritten = format!("F({})", 99f64.to_bits());
    assert!(format!("{:?}", rows[1]).contains(&overwritten), "the overwrite wins: {:?}", rows[1]);

    // A damaged file is caught by the listing.
    let sst = dir.path().join("snap").join(&info.files[0].name);
    let mut bytes = std::fs::read(&sst).unwrap();
    bytes[3] ^= 0xff;
    std::fs::remove_file(&sst).unwrap(); // the checkpoint's link, not the source's file
    std::fs::write(&sst, bytes).unwrap();
    let err = verify_checkpoint(&dir.path().join("snap")).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(restore_checkpoint(&dir.path().join("snap"), &dir.path().join("again")).is_err());
    assert!(db.checkpoint(&dir.path().join("snap")).is_err(), "an existing destination is refused");
    assert_eq!(scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL).len() as u64, acked.load(Ordering::Acquire));
}

#[test]
fn checkpoint_listing_covers_the_manifest_and_refuses_unlisted_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("src"), Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    create_tables(&db);
    db.write(f64_write("t1", "s", vec![1, 2, 3], "a", "x", vec![1.0, 2.0, 3.0])).unwrap();
    let snap = dir.path().join("snaps").join("one");
    let info = db.checkpoint(&snap).unwrap();
    let names: Vec<&str> = info.files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"CURRENT") && names.iter().any(|n| n.starts_with("MANIFEST-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("sst/") && n.ends_with(".sst")), "{names:?}");
    assert!(info.linked >= 1 && info.copied == 0, "same file system: SSTables are linked: {info:?}");
    assert!(!dir.path().join("snaps").join(".one.partial").exists(), "the work directory is renamed");

    // A file the listing does not name is refused, and so is a manifest that was changed.
    std::fs::write(snap.join("sst").join("00000000000000009999.sst"), b"stray").unwrap();
    let err = verify_checkpoint(&snap).unwrap_err().to_string();
    assert!(err.contains("00000000000000009999.sst") && err.contains("not in the checkpoint's listing"), "{err}");
    std::fs::remove_file(snap.join("sst").join("00000000000000009999.sst")).unwrap();
    verify_checkpoint(&snap).unwrap();
    std::fs::write(snap.join("CURRENT"), b"MANIFEST-000009\n").unwrap();
    let err = verify_checkpoint(&snap).unwrap_err().to_string();
    assert!(err.contains("CURRENT") && err.contains("checksum mismatch"), "{err}");
    // A directory without a listing is not a checkpoint.
    let err = verify_checkpoint(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no listing"), "{err}");
    db.close().unwrap();
}
