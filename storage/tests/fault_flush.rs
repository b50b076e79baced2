//! Injected faults while a flush writes SSTables: the flush fails with a clear error, its output
//! files are deleted, the rows stay in memory and in the WAL, writes go on, and once the fault
//! clears the flush succeeds without a restart. Rows of `docs/faults.md` (section "Flush").

mod fault_support;

use std::time::Duration;

use fault_support::{Store, assert_acked};
use isobar_storage::Error;
use isobar_storage::fs::{FaultKind, FaultRule, Op, Trigger};

/// Injects `rule` into a flush and checks the whole story; returns the flush error.
fn flush_fails_then_resumes(rule: FaultRule) -> Error {
    let mut s = Store::new();
    s.write_ok(10);
    let id = s.fault.add(rule);
    let err = s.db.flush().expect_err("the flush fails while the fault lasts");
    assert!(s.fault.fired(id) >= 1, "the fault was injected");
    // The old version is intact: no file was added, every acknowledged row reads back.
    assert_eq!(s.db.stats().families.iter().map(|f| f.files).sum::<usize>(), 0);
    assert_acked(&s.db, &s.acked);
    // Writes go on meanwhile (into memory and the WAL).
    s.write_ok(3);
    // The fault clears ("space freed"): the flush succeeds without a restart.
    s.fault.clear();
    s.db.flush().expect("the flush succeeds once the fault is gone");
    let live = s.db.stats().families.iter().map(|f| f.files).sum::<usize>();
    assert!(live >= 1);
    // Every failed attempt (the worker retried several times) deleted its outputs: the directory
    // holds exactly the live files, no `.sst.tmp` and no unlisted `.sst`.
    let on_disk = s.sst_files();
    assert_eq!(on_disk.len(), live, "files left by failed flushes: {on_disk:?}");
    assert!(on_disk.iter().all(|p| p.extension().is_some_and(|e| e == "sst")), "{on_disk:?}");
    assert_acked(&s.db, &s.acked);
    s.write_ok(2);
    let db = s.reopen_real();
    db.close().expect("close");
    err
}

#[test]
fn sst_write_on_full_disk_fails_the_flush_with_disk_full_and_resumes_after_space_is_freed() {
    let err = flush_fails_then_resumes(FaultRule::new(Op::Write, ".sst", Trigger::From(1), FaultKind::NoSpace));
    match &err {
        Error::DiskFull { during: "flush", path, resumes: true } => {
            assert!(path.to_string_lossy().contains(".sst"), "{}", path.display())
        }
        other => panic!("expected DiskFull during flush, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert!(err.to_string().contains("resumes by itself"), "{err}");
}

#[test]
fn sst_short_write_fails_the_flush_and_resumes() {
    let err = flush_fails_then_resumes(FaultRule::new(
        Op::Write,
        ".sst",
        Trigger::From(1),
        FaultKind::ShortWrite { written: 100 },
    ));
    assert!(matches!(&err, Error::DiskFull { during: "flush", resumes: true, .. }), "{err:?}");
}

#[test]
fn sst_write_eio_fails_the_flush_and_resumes() {
    let err = flush_fails_then_resumes(FaultRule::new(Op::Write, ".sst", Trigger::From(1), FaultKind::Eio));
    match &err {
        Error::FlushFailing { reason } => {
            assert!(reason.contains(".sst") && reason.contains("Input/output error"), "{reason}")
        }
        other => panic!("expected FlushFailing, got {other:?}"),
    }
}

#[test]
fn sst_fsync_failure_fails_the_flush_and_a_fresh_file_is_written_on_retry() {
    let err = flush_fails_then_resumes(FaultRule::new(Op::SyncAll, ".sst", Trigger::From(1), FaultKind::Eio));
    assert!(matches!(&err, Error::FlushFailing { reason } if reason.contains("Input/output error")), "{err:?}");
}

#[test]
fn sst_rename_failure_fails_the_flush_and_resumes() {
    let err = flush_fails_then_resumes(FaultRule::new(Op::Rename, ".sst", Trigger::From(1), FaultKind::Eio));
    assert!(matches!(&err, Error::FlushFailing { reason } if reason.contains(".sst")), "{err:?}");
}

#[test]
fn sst_directory_fsync_failure_fails_the_flush_and_resumes() {
    let err = flush_fails_then_resumes(FaultRule::new(Op::SyncDir, "sst", Trigger::From(1), FaultKind::Eio));
    assert!(matches!(&err, Error::FlushFailing { .. }), "{err:?}");
}

#[test]
fn writes_held_back_by_a_full_disk_get_disk_full_and_resume_after_space_is_freed() {
    let mut s = Store::with(|o| isobar_storage::Options {
        memtable_size: 16 << 10,
        memtable_budget: 32 << 10,
        write_stall_timeout: Duration::from_millis(200),
        ..o
    });
    s.fault.add(FaultRule::new(Op::Write, ".sst", Trigger::From(1), FaultKind::NoSpace));
    let mut refused = None;
    for _ in 0..5_000 {
        if let Err(e) = s.write() {
            refused = Some(e);
            break;
        }
    }
    let err = refused.expect("writes are held back once memory is full and flushes fail");
    assert!(matches!(&err, Error::DiskFull { during: "flush", resumes: true, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(s.db.stats().memtable_bytes <= (32 << 10) + (16 << 10), "memory stayed bounded");
    assert_acked(&s.db, &s.acked);
    s.fault.clear();
    s.db.flush().expect("flushes succeed once space is freed");
    s.write_ok(5);
    let db = s.reopen_real();
    db.close().expect("close");
}
