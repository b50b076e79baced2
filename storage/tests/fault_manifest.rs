//! Injected faults in the manifest: a failed append leaves the old version in force and deletes
//! the flush's outputs (the flush is retried); a failed `fsync` leaves the manifest's state
//! unknown, so the database refuses writes until reopened; a failed `CURRENT` rename during a
//! rotation is invisible to callers (the edit is already durable in the old file) and retried.
//! Rows of `docs/faults.md` (section "Manifest").

mod fault_support;

use fault_support::{Store, assert_acked, options};
use isobar_storage::fs::{FaultFs, FaultKind, FaultRule, Fs, Op, Trigger};
use isobar_storage::manifest::{Edit, Manifest, ManifestOptions};
use isobar_storage::{Db, Error, manifest};

#[test]
fn manifest_append_failure_keeps_the_old_version_and_the_flush_is_retried() {
    let mut s = Store::new();
    s.write_ok(10);
    s.fault.add(FaultRule::new(Op::Write, "MANIFEST", Trigger::Nth(1), FaultKind::ShortWrite { written: 3 }));
    let err = s.db.flush().expect_err("the flush whose manifest edit failed is not installed");
    assert!(matches!(&err, Error::DiskFull { during: "flush", resumes: true, .. }), "{err:?}");
    assert!(err.to_string().contains("MANIFEST"), "names the file: {err}");
    // The torn record was cut off again; the retry (fault gone after one call) installs the flush.
    s.db.flush().expect("the retried flush succeeds");
    let live = s.db.stats().families.iter().map(|f| f.files).sum::<usize>();
    assert_eq!(s.sst_files().len(), live, "the failed attempt's outputs were deleted");
    assert_acked(&s.db, &s.acked);
    s.write_ok(3);
    let db = s.reopen_real();
    assert_eq!(db.stats().families.iter().map(|f| f.files).sum::<usize>(), live);
    db.close().expect("close");
}

#[test]
fn manifest_fsync_failure_refuses_writes_until_reopen() {
    let mut s = Store::new();
    s.write_ok(10);
    s.fault.add(FaultRule::new(Op::SyncData, "MANIFEST", Trigger::Nth(1), FaultKind::Eio));
    let err = s.db.flush().expect_err("the flush whose manifest fsync failed is not acknowledged");
    assert!(
        matches!(&err, Error::Poisoned(why) if why.contains("manifest could not be synced") && why.contains("MANIFEST-")),
        "{err:?}"
    );
    s.fault.clear();
    let refused = s.write().expect_err("writes are refused: the manifest's state is unknown");
    match &refused {
        Error::Poisoned(why) => assert!(why.contains("manifest") && why.contains("reopen"), "{why}"),
        other => panic!("expected Poisoned, got {other:?}"),
    }
    assert_acked(&s.db, &s.acked);
    // The reopen reads whatever reached the manifest; unlisted outputs are deleted as orphans.
    let db = s.reopen_real();
    s.db = db;
    s.write_ok(3);
    s.db.flush().expect("flush after the reopen");
    let live = s.db.stats().families.iter().map(|f| f.files).sum::<usize>();
    assert_eq!(s.sst_files().len(), live);
    let db = s.reopen_real();
    db.close().expect("close");
}

#[test]
fn current_rename_failure_during_rotation_is_retried_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fault = FaultFs::new();
    let opts = ManifestOptions { max_records: 1, ..ManifestOptions::default() };
    let (mut m, mut state) = Manifest::create_or_open_in(fault.handle(), dir.path(), opts).unwrap();
    let first = m.path().to_path_buf();
    let rule = fault.add(FaultRule::new(Op::Rename, "CURRENT", Trigger::Nth(1), FaultKind::Eio));
    for seq in 1..=2 {
        m.apply(&mut state, vec![Edit::LastSeq(seq)]).expect("the edit is durable whatever the rotation does");
    }
    assert_eq!(fault.fired(rule), 1, "the rotation's rename failed");
    assert_eq!(m.path(), first, "the failed rotation left the old manifest in force");
    assert!(!dir.path().join("CURRENT.tmp").exists(), "the temporary CURRENT was removed");
    for seq in 3..=4 {
        m.apply(&mut state, vec![Edit::LastSeq(seq)]).unwrap();
    }
    assert_ne!(m.path(), first, "a later rotation succeeded");
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).unwrap();
    assert_eq!(reopened.last_seq, 4);
}

#[test]
fn manifest_read_error_at_open_fails_the_open_and_changes_nothing() {
    let mut s = Store::new();
    s.write_ok(5);
    s.db.flush().unwrap();
    s.db.close().unwrap();
    let fault = FaultFs::over(Fs::os());
    fault.add(FaultRule::new(Op::Read, "MANIFEST", Trigger::Nth(1), FaultKind::Eio));
    let err = Db::open(s.dir.path(), options(fault.handle())).expect_err("open fails");
    assert!(
        matches!(&err, Error::Manifest(manifest::Error::Io { path, .. }) if path.to_string_lossy().contains("MANIFEST")),
        "{err:?}"
    );
    let db = s.reopen_real();
    db.close().unwrap();
}
