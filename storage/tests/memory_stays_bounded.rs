//! Memory stays bounded whatever the write rate: when flushes cannot keep up (here: they fail,
//! because the SSTable directory vanished), writes wait and then fail with a clear, retryable
//! "overloaded" error instead of growing memory; once the fault clears, writes resume without a
//! restart. Also: WAL segments are deleted once every family has flushed past them.

mod common;

use std::time::Duration;

use common::{create_tables, f64_write, scan_all};
use isobar_storage::{Db, Error, Options, SeriesSelector, SyncPolicy, TimeRange};

#[test]
fn writes_fail_with_overloaded_when_flushes_cannot_keep_up_and_resume_after() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: SyncPolicy::None,
        memtable_size: 32 << 10,
        memtable_budget: 64 << 10,
        write_stall_timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    create_tables(&db);
    let sst = dir.path().join("sst");
    std::fs::rename(&sst, dir.path().join("sst-away")).unwrap();
    std::fs::write(&sst, b"not a directory").unwrap();
    let mut accepted = 0;
    let mut refused = None;
    for i in 0..10_000i64 {
        let ts: Vec<i64> = (i * 100..i * 100 + 100).collect();
        match db.write(f64_write("t1", "s", ts, "a", "x", vec![1.0; 100])) {
            Ok(_) => accepted += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("writes are refused once memory is full");
    assert!(matches!(err, Error::Overloaded { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("retry"), "{err}");
    let held = db.stats().memtable_bytes;
    assert!(held <= (64 << 10) + (32 << 10), "memory stayed near the budget: {held} bytes");
    // The fault clears: the flush worker's retry succeeds and writes go on, no restart.
    std::fs::remove_file(&sst).unwrap();
    std::fs::rename(dir.path().join("sst-away"), &sst).unwrap();
    let mut resumed = false;
    for _ in 0..200 {
        if db.write(f64_write("t1", "s", vec![-1], "a", "x", vec![2.0])).is_ok() {
            resumed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(resumed, "writes resume once flushes succeed again");
    assert_eq!(scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL).len(), accepted * 100 + 1);
}

#[test]
fn wal_segments_are_deleted_once_every_family_flushed_past_them() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { sync: SyncPolicy::None, wal_segment_size: 4 << 10, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    create_tables(&db);
    let segments = || std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    for i in 0..50i64 {
        db.write(f64_write("t0", "s", (i * 50..i * 50 + 50).collect(), "a", "x", vec![1.0; 50])).unwrap();
    }
    let before = segments();
    assert!(before > 3, "the writes spread over several segments: {before}");
    db.flush().unwrap();
    let after = segments();
    assert!(after <= 1, "flushed segments are deleted: {before} -> {after}");
    db.close().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(scan_all(&db, "t0", &SeriesSelector::All, TimeRange::ALL).len(), 2500);
}
