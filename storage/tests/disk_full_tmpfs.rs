//! Disk full on a real, small file system: an 8 MiB tmpfs mounted in a temporary directory. The
//! database writes until the WAL hits `ENOSPC`, the caller gets the typed disk-full error with what
//! to do, writes are refused until reopen, and after space is freed (a filler file placed first is
//! deleted) the reopened database holds every acknowledged write and takes writes again.
//!
//! Needs root (to mount); under `CI` it fails without it, elsewhere it prints `SKIPPED: cannot mount tmpfs (not root)` and
//! returns. Row "Disk full (real)" of `docs/faults.md`.

mod fault_support;

use fault_support::{assert_acked, options, write_of};
use isobar_storage::fs::Fs;
use isobar_storage::{ColumnType, Db, Error, Options, TableSpec};
use isobar_testkit::tmpfs::mount_or_skip;

fn opts() -> Options {
    Options { wal_segment_size: 1 << 20, ..options(Fs::os()) }
}

#[test]
fn disk_full_on_a_real_tmpfs_refuses_writes_loses_nothing_and_resumes_after_space_is_freed() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_mount) = mount_or_skip(&mnt, "8m") else {
        return;
    };
    let filler = mnt.join("filler");
    std::fs::write(&filler, vec![0x5a; 1 << 20]).unwrap();
    let dir = mnt.join("db");
    let db = Db::open(&dir, opts()).unwrap();
    db.create_table(TableSpec::new("m").family("f", &[("v", ColumnType::F64)])).unwrap();

    let mut acked = std::collections::BTreeMap::new();
    let mut next = 1i64;
    let mut failure = None;
    for _ in 0..10_000 {
        let ts: Vec<i64> = (next..next + 1000).collect();
        let values: Vec<f64> = ts.iter().map(|t| (*t % 97) as f64).collect();
        next += 1000;
        match db.write(write_of(ts.clone(), values.clone())) {
            Ok(_) => acked.extend(ts.into_iter().zip(values)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let err = failure.expect("an 8 MiB file system fills up");
    match &err {
        Error::DiskFull { during, path, resumes } => {
            assert_eq!(*during, "WAL append");
            assert!(path.starts_with(&dir), "{}", path.display());
            assert!(resumes, "the engine resumes by itself once space is freed");
        }
        other => panic!("expected the typed disk-full error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("disk full") && text.contains("free space") && text.contains("resumes by itself"), "{text}");
    assert!(acked.len() >= 100_000, "several MiB were acknowledged first: {} rows", acked.len());
    println!("disk full after {} acknowledged rows: {text}", acked.len());

    let refused = db.write(write_of(vec![0], vec![0.0])).expect_err("refused until resumed or reopened");
    assert!(matches!(&refused, Error::Suspended(why) if why.contains("No space left on device")), "{refused:?}");
    let _ = db.close();
    drop(db);

    // Space is freed; the reopened database replays the WAL and has every acknowledged row.
    std::fs::remove_file(&filler).unwrap();
    let db = Db::open(&dir, opts()).expect("reopen after space is freed");
    assert_acked(&db, &acked);
    for i in 0..5 {
        let ts = next + i;
        db.write(write_of(vec![ts], vec![1.5])).expect("writes resume");
        acked.insert(ts, 1.5);
    }
    db.flush().expect("the memtables flush into the freed space");
    db.close().unwrap();
    let db = Db::open(&dir, opts()).unwrap();
    assert_acked(&db, &acked);
    db.close().unwrap();
}
