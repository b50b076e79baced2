//! Injected faults in the write-ahead log: a failed append, `fdatasync` or segment creation is
//! never acknowledged, and since the log's state on disk is then unknown the database refuses
//! writes with the reason (`Suspended`: retryable) until it resumes or is reopened; the reopen
//! replays every acknowledged write. Resuming without a reopen is in `resume_after_wal_failure.rs`.
//! Rows of `docs/faults.md` (section "WAL").

mod fault_support;

use fault_support::{ROWS, Store};
use isobar_storage::fs::{FaultKind, FaultRule, Op, Trigger};
use isobar_storage::wal::FailedOp;
use isobar_storage::{Error, wal};

/// After a WAL failure: later writes are refused with the reason (until a resume, which these
/// tests leave to the reopen); a reopen on the real disk brings every acknowledged write back
/// and takes writes again.
fn refuses_until_reopen(s: &mut Store, reason: &str) {
    let refused = s.write().expect_err("writes are refused after a WAL failure");
    match &refused {
        Error::Suspended(why) => {
            assert!(why.contains(reason), "reason names the failure: {why}");
            assert!(why.contains("admin resume") && why.contains("reopen"), "reason says what to do: {why}");
        }
        other => panic!("expected Suspended, got {other:?}"),
    }
    let db = s.reopen_real();
    s.db = db;
    s.write().expect("writes resume after the reopen");
    let db = s.reopen_real();
    db.close().expect("close");
}

#[test]
fn wal_append_eio_is_not_acknowledged_and_refuses_writes_until_reopen() {
    let mut s = Store::new();
    s.write_ok(5);
    let rule = s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::Eio));
    let err = s.write().expect_err("the write whose WAL append failed is not acknowledged");
    assert!(
        matches!(&err, Error::Wal(wal::Error::Failed { op: FailedOp::Write, .. })),
        "caller sees the WAL write failure: {err:?}"
    );
    assert!(err.to_string().contains("Input/output error"), "{err}");
    assert_eq!(s.fault.fired(rule), 1);
    s.fault.clear();
    refuses_until_reopen(&mut s, "WAL write");
}

#[test]
fn wal_fsync_failure_is_not_acknowledged_and_never_retried() {
    let mut s = Store::new();
    s.write_ok(5);
    s.fault.add(FaultRule::new(Op::SyncData, "wal/", Trigger::Nth(1), FaultKind::Eio));
    let err = s.write().expect_err("the write whose fdatasync failed is not acknowledged");
    assert!(matches!(&err, Error::Wal(wal::Error::Failed { op: FailedOp::Sync, .. })), "{err:?}");
    // The fault is gone, but a retried fsync could "succeed" on pages the kernel already dropped:
    // the engine does not retry, it refuses writes until reopened.
    s.fault.clear();
    refuses_until_reopen(&mut s, "WAL fdatasync");
}

#[test]
fn wal_short_write_on_full_disk_is_a_disk_full_error() {
    let mut s = Store::new();
    s.write_ok(5);
    s.fault.add(FaultRule::new(Op::Write, "wal/", Trigger::Nth(1), FaultKind::ShortWrite { written: 7 }));
    let err = s.write().expect_err("a torn append is not acknowledged");
    match &err {
        Error::DiskFull { during, path, resumes } => {
            assert_eq!(*during, "WAL append");
            assert!(path.to_string_lossy().contains("wal"), "{}", path.display());
            assert!(resumes, "the engine resumes by itself once space is freed");
        }
        other => panic!("expected DiskFull, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("disk full") && text.contains("free space") && text.contains("resumes by itself"), "{text}");
    assert!(err.is_retryable());
    s.fault.clear();
    // The reopen cuts the torn record off the tail of the segment.
    refuses_until_reopen(&mut s, "No space left on device");
}

#[test]
fn wal_segment_creation_on_full_disk_is_a_disk_full_error() {
    let mut s = Store::with(|o| isobar_storage::Options { wal_segment_size: 2048, ..o });
    s.write_ok(2);
    s.fault.add(FaultRule::new(Op::Open, "wal/", Trigger::From(1), FaultKind::NoSpace));
    let mut failed = None;
    for _ in 0..200 {
        if let Err(e) = s.write() {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("a write needing a new segment fails");
    assert!(matches!(&err, Error::DiskFull { during: "WAL append", resumes: true, .. }), "{err:?}");
    assert!(s.acked.len() as i64 >= 2 * ROWS);
    s.fault.clear();
    refuses_until_reopen(&mut s, "WAL create");
}
