//! `Db::read_only` (what health checks, `/ready` and `isobar_read_only{reason}` report) says
//! "read-only, and why" exactly while writes are refused for a background failure: a failed WAL
//! write (I/O error or full disk) until a resume or a reopen, and failing flushes once the memtables are full
//! until a flush succeeds again. A healthy database, and one whose flushes fail while memtables
//! still have room, is not read-only.

mod fault_support;

use std::time::Duration;

use fault_support::Store;
use isobar_storage::fs::{FaultKind, FaultRule, Op, Trigger};
use isobar_storage::{Error, ReadOnlyReason};

#[test]
fn a_healthy_database_is_not_read_only() {
    let mut s = Store::new();
    s.write_ok(3);
    assert_eq!(s.db.read_only(), None);
    assert_eq!(s.db.metrics().read_only, None);
}

#[test]
fn a_failed_wal_write_is_read_only_wal_failed_until_reopen() {
    let mut s = Store::new();
    s.write_ok(2);
    s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::Eio));
    s.write().expect_err("the WAL write fails");
    s.fault.clear();
    let state = s.db.read_only().expect("read-only after a failed WAL write");
    assert_eq!(state.reason, ReadOnlyReason::WalFailed);
    assert!(state.clears_by_itself, "a failed WAL is resumed in the background");
    assert!(state.detail.contains("Input/output error"), "{}", state.detail);
    assert_eq!(s.db.metrics().read_only.map(|r| r.reason), Some(ReadOnlyReason::WalFailed));
    // Still refused, still reported.
    assert!(matches!(s.write(), Err(Error::Suspended(_))));
    assert_eq!(s.db.read_only().map(|r| r.reason), Some(ReadOnlyReason::WalFailed));
    let db = s.reopen_real();
    assert_eq!(db.read_only(), None, "a reopen clears it");
    db.close().unwrap();
}

#[test]
fn a_full_disk_under_the_wal_is_read_only_disk_full() {
    let mut s = Store::with(|o| isobar_storage::Options { wal_segment_size: 2048, ..o });
    s.write_ok(2);
    s.fault.add(FaultRule::new(Op::Open, "wal/", Trigger::From(1), FaultKind::NoSpace));
    let mut refused = false;
    for _ in 0..200 {
        if s.write().is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "a write needing a new segment fails");
    let state = s.db.read_only().expect("read-only after the WAL met a full disk");
    assert_eq!(state.reason, ReadOnlyReason::DiskFull);
    assert_eq!(state.reason.as_str(), "disk_full");
    s.fault.clear();
    s.reopen_real().close().unwrap();
}

#[test]
fn failing_flushes_are_read_only_only_while_writes_are_stopped_and_clear_by_themselves() {
    let mut s = Store::with(|o| isobar_storage::Options {
        memtable_size: 16 << 10,
        memtable_budget: 32 << 10,
        write_stall_timeout: Duration::from_millis(200),
        ..o
    });
    s.fault.add(FaultRule::new(Op::Write, ".sst", Trigger::From(1), FaultKind::NoSpace));
    // Memtables still have room: the first failed flush does not make the database read-only.
    let mut saw_writable_failure = false;
    let mut refused = None;
    for _ in 0..5_000 {
        match s.write() {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
        // Past one memtable's size a flush was due (and fails); writes are still accepted.
        if s.db.read_only().is_none() && s.db.stats().memtable_bytes > 16 << 10 {
            saw_writable_failure = true;
        }
    }
    assert!(saw_writable_failure, "a failing flush with room left in the budget is not read-only");
    let err = refused.expect("writes are held back once memory is full and flushes fail");
    assert!(matches!(&err, Error::DiskFull { during: "flush", .. }), "{err:?}");
    let state = s.db.read_only().expect("read-only while writes are stopped by failing flushes");
    assert_eq!(state.reason, ReadOnlyReason::DiskFull);
    assert!(state.clears_by_itself, "failing flushes are retried");
    s.fault.clear();
    s.db.flush().expect("flushes succeed once space is freed");
    assert_eq!(s.db.read_only(), None, "writable again without a reopen");
    s.write_ok(3);
    s.reopen_real().close().unwrap();
}

/// Sum of the sizes of the files in the WAL directory.
fn wal_dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("wal")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

#[test]
fn the_wal_backlog_gauge_is_the_size_of_the_segments_on_disk_and_shrinks_after_a_flush() {
    let mut s = Store::with(|o| isobar_storage::Options { wal_segment_size: 4096, ..o });
    assert_eq!(s.db.metrics().wal_unflushed_bytes, wal_dir_bytes(s.dir.path()));
    s.write_ok(200);
    let before = s.db.metrics().wal_unflushed_bytes;
    assert_eq!(before, wal_dir_bytes(s.dir.path()), "the gauge is what is on disk");
    assert!(before > 4 * 4096, "several segments: {before}");
    s.db.flush().unwrap();
    let after = s.db.metrics().wal_unflushed_bytes;
    assert_eq!(after, wal_dir_bytes(s.dir.path()));
    assert!(after < 4096, "flushed segments are deleted: {before} -> {after}");
}
