//! Recovery without a restart: after a WAL write or sync failed (a full disk, an I/O error),
//! `Db::resume` (and the background retry) flushes the memtables, restarts the WAL on a new
//! segment and takes writes again. Every acknowledged write survives, the write that failed is
//! kept once (never twice), a reopen afterwards replays cleanly (the torn segment is gone), and
//! while the cause persists a resume fails and changes nothing. Row "WAL failure, resumed" of
//! `docs/faults.md`.

mod fault_support;

use std::time::{Duration, Instant};

use arrow_array::Array;
use fault_support::{ROWS, Store, list, read_all};
use isobar_storage::fs::{FaultKind, FaultRule, Op, Trigger};
use isobar_storage::{Db, Error, ReadOnlyReason, Resumed, ScanRequest};

/// Rows a full scan returns (duplicates included, unlike `read_all`'s map).
fn scanned_rows(db: &Db) -> usize {
    db.scan(&ScanRequest::new("m").columns(["f.v"])).expect("scan").iter().map(|b| b.column(0).len()).sum()
}

#[test]
fn a_torn_wal_append_resumes_without_reopen_keeping_every_acked_write_once() {
    let mut s = Store::new();
    s.write_ok(5);
    s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::ShortWrite { written: 7 }));
    let err = s.write().expect_err("the torn append is not acknowledged");
    assert!(matches!(&err, Error::DiskFull { during: "WAL append", resumes: true, .. }), "{err:?}");
    assert!(matches!(s.write(), Err(Error::Suspended(_))), "refused until resumed");
    assert_eq!(s.db.read_only().map(|r| r.reason), Some(ReadOnlyReason::DiskFull));
    let wal_before = list(&s.dir.path().join("wal"));
    s.fault.clear();

    assert_eq!(s.db.resume().expect("resume once space is back"), Resumed::WalRestarted);
    assert_eq!(s.db.read_only(), None, "writable again");
    assert_eq!(s.db.metrics().resumes, 1);
    let wal_after = list(&s.dir.path().join("wal"));
    assert!(
        wal_after.iter().all(|n| !wal_before.contains(n)),
        "the failed segment is gone: {wal_before:?} -> {wal_after:?}"
    );
    s.write_ok(3);
    s.db.flush().expect("admin flush works after the resume");
    s.write_ok(2);

    // 5 + 3 + 2 acknowledged writes plus the failed one (kept once, never doubled).
    let found = read_all(&s.db).expect("scan");
    for (ts, v) in &s.acked {
        assert_eq!(found.get(ts), Some(v), "acknowledged row {ts}");
    }
    assert_eq!(found.len(), s.acked.len() + ROWS as usize);
    assert_eq!(scanned_rows(&s.db), found.len(), "no row is visible twice");

    // A reopen (strict WAL recovery) replays the new segment; nothing is lost or doubled.
    let db = s.reopen_real();
    assert_eq!(scanned_rows(&db), s.acked.len() + ROWS as usize);
    db.close().expect("clean close");
}

#[test]
fn a_failed_wal_fsync_resumes_and_a_clean_close_follows() {
    let mut s = Store::new();
    s.write_ok(4);
    s.fault.add(FaultRule::new(Op::SyncData, "wal/", Trigger::Nth(1), FaultKind::Eio));
    s.write().expect_err("the write whose fdatasync failed is not acknowledged");
    s.fault.clear();
    assert_eq!(s.db.read_only().map(|r| r.reason), Some(ReadOnlyReason::WalFailed));
    assert_eq!(s.db.resume().expect("resume"), Resumed::WalRestarted);
    s.write_ok(4);
    s.db.close().expect("close succeeds after the resume (the old poison is gone)");
    let db = s.reopen_real();
    assert_eq!(scanned_rows(&db), s.acked.len() + ROWS as usize);
    db.close().expect("close");
}

#[test]
fn a_resume_while_the_disk_is_still_full_fails_and_changes_nothing() {
    let mut s = Store::new();
    s.write_ok(3);
    s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::NoSpace));
    s.write().expect_err("the WAL append fails");
    s.fault.clear();
    let full = s.fault.add(FaultRule::new(Op::Write, "sst/", Trigger::From(1), FaultKind::NoSpace));
    let err = s.db.resume().expect_err("the flush of the resume meets the full disk");
    assert!(err.disk_full_path().is_some(), "{err:?}");
    assert!(s.fault.fired(full) >= 1);
    assert!(matches!(s.write(), Err(Error::Suspended(_))), "still refused");
    assert!(s.db.read_only().is_some());
    s.fault.clear();
    assert_eq!(s.db.resume().expect("resume once space is back"), Resumed::WalRestarted);
    assert_eq!(s.db.resume().expect("a second resume"), Resumed::NotNeeded);
    s.write_ok(2);
    let db = s.reopen_real();
    db.close().expect("close");
}

#[test]
fn the_background_retry_resumes_by_itself() {
    let mut s = Store::new();
    s.write_ok(3);
    s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::Eio));
    s.write().expect_err("the WAL append fails");
    s.fault.clear();
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.db.read_only().is_some() {
        assert!(Instant::now() < deadline, "the background retry did not resume within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.db.metrics().resumes, 1);
    s.write_ok(3);
    let db = s.reopen_real();
    db.close().expect("close");
}
