//! Injected faults on the checkpoint's own file work: the CRC-32C pass of `Db::checkpoint` over
//! the files it linked, and the offline `verify_checkpoint_in`/`restore_checkpoint_in` (what
//! `isobar snapshot verify`/`restore` run on the OS file system). A read fault during a
//! verification is reported naming the file; a restore that fails leaves neither a half-restored
//! data directory nor its staging copy, and a retry succeeds. Rows of `docs/faults.md` (section
//! "Checkpoint").

mod fault_support;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use fault_support::{Store, assert_acked, list, options};
use isobar_storage::fs::{FaultFs, FaultKind, FaultRule, Fs, Op, Trigger};
use isobar_storage::{CheckpointInfo, Db, Error, restore_checkpoint_in, verify_checkpoint, verify_checkpoint_in};

/// A database with acknowledged rows in SSTables and a checkpoint of it at `<dir>/ckpt`.
fn checkpointed() -> (Store, PathBuf, CheckpointInfo) {
    let mut s = Store::new();
    s.write_ok(3);
    s.db.flush().unwrap();
    s.write_ok(2);
    let dest = s.dir.path().join("ckpt");
    let info = s.db.checkpoint(&dest).expect("checkpoint");
    assert!(info.files.iter().filter(|f| f.name.ends_with(".sst")).count() >= 2, "{info:?}");
    (s, dest, info)
}

/// Names in `dir` containing `part`.
fn names_with(dir: &Path, part: &str) -> Vec<PathBuf> {
    list(dir).into_iter().filter(|p| p.to_string_lossy().contains(part)).collect()
}

#[test]
fn checkpoint_crc_read_failure_leaves_nothing_behind_and_a_retry_succeeds() {
    let mut s = Store::new();
    s.write_ok(4);
    let dest = s.dir.path().join("ckpt");
    // The files linked into the work directory are read back for their CRC-32C.
    let rule = s.fault.add(FaultRule::new(Op::Read, ".ckpt.partial/sst/", Trigger::Nth(1), FaultKind::Eio));
    let err = s.db.checkpoint(&dest).expect_err("the CRC-32C pass cannot read a linked file");
    assert!(matches!(&err, Error::Io { path, .. } if path.to_string_lossy().contains(".ckpt.partial/sst/")), "{err:?}");
    assert_eq!(s.fault.fired(rule), 1);
    assert!(!dest.exists(), "no checkpoint");
    assert_eq!(names_with(s.dir.path(), "ckpt"), Vec::<PathBuf>::new(), "no partial checkpoint is left");
    s.fault.clear();
    s.db.checkpoint(&dest).expect("the retry succeeds");
    verify_checkpoint(&dest).expect("and verifies");
    let db = s.reopen_real();
    db.close().unwrap();
}

#[test]
fn a_read_error_during_verify_is_reported_naming_the_file() {
    let (s, dest, _) = checkpointed();
    let fault = FaultFs::new();
    let rule = fault.add(FaultRule::new(Op::Read, ".sst", Trigger::Nth(1), FaultKind::Eio));
    let err = verify_checkpoint_in(&*fault, &dest).expect_err("a listed file cannot be read");
    match &err {
        Error::Io { path, source } => {
            assert!(path.starts_with(&dest) && path.to_string_lossy().ends_with(".sst"), "{}", path.display());
            assert!(source.to_string().contains("Input/output error"), "{source}");
        }
        other => panic!("expected an I/O error naming the file, got {other:?}"),
    }
    assert_eq!(fault.fired(rule), 1);
    verify_checkpoint_in(&*fault, &dest).expect("the checkpoint itself is sound: the next pass verifies");
    drop(s);
}

#[test]
fn corrupt_bytes_read_during_verify_are_a_checksum_mismatch_naming_the_file() {
    let (s, dest, _) = checkpointed();
    let fault = FaultFs::new();
    fault.add(FaultRule::new(Op::Read, ".sst", Trigger::Nth(1), FaultKind::CorruptRead { at: 7 }));
    let err = verify_checkpoint_in(&*fault, &dest).expect_err("a corrupt byte is caught");
    match &err {
        Error::Io { path, source } => {
            assert!(path.starts_with(&dest) && path.to_string_lossy().ends_with(".sst"), "{}", path.display());
            assert_eq!(source.kind(), ErrorKind::InvalidData);
            assert!(source.to_string().contains("checksum mismatch"), "{source}");
        }
        other => panic!("expected a checksum mismatch naming the file, got {other:?}"),
    }
    // A corrupt listing is refused as such, naming it.
    fault.clear();
    fault.add(FaultRule::new(Op::Read, "CHECKPOINT", Trigger::Nth(1), FaultKind::CorruptRead { at: 0 }));
    let err = verify_checkpoint_in(&*fault, &dest).expect_err("a corrupt listing is caught");
    assert!(
        matches!(&err, Error::Io { path, .. } if path == &dest.join("CHECKPOINT"))
            && err.to_string().contains("listing"),
        "{err:?}"
    );
    verify_checkpoint(&dest).expect("the files are sound: only the bytes read were damaged");
    drop(s);
}

#[test]
fn a_failed_copy_or_sync_during_restore_leaves_nothing_and_a_retry_succeeds() {
    let (s, dest, info) = checkpointed();
    let target = s.dir.path().join("restored");
    let fault = FaultFs::new();
    // The second copy fails (the first file is already in the staging directory), then the
    // fsync of a copied file, then the fsync of the staging directory.
    let faults = [
        FaultRule::new(Op::Link, ".restored.restoring/", Trigger::Nth(2), FaultKind::Eio),
        FaultRule::new(Op::SyncAll, ".restored.restoring/", Trigger::Nth(1), FaultKind::Eio),
        FaultRule::new(Op::SyncDir, ".restored.restoring", Trigger::Nth(1), FaultKind::NoSpace),
    ];
    for rule in faults {
        let what = format!("{:?}", rule.op);
        let id = fault.add(rule);
        let err = restore_checkpoint_in(&*fault, &dest, &target).expect_err(&what);
        assert!(
            matches!(&err, Error::Io { path, .. } if path.to_string_lossy().contains(".restored.restoring")),
            "{what}: {err:?}"
        );
        assert_eq!(fault.fired(id), 1, "{what}");
        assert!(!target.exists(), "{what}: no half-restored data directory");
        assert_eq!(names_with(s.dir.path(), "restor"), Vec::<PathBuf>::new(), "{what}: the staging copy is removed");
        fault.clear();
    }
    let restored = restore_checkpoint_in(&*fault, &dest, &target).expect("the retry succeeds");
    assert_eq!(restored, info);
    let db = Db::open(&target, options(Fs::os())).expect("the restored database opens");
    assert_acked(&db, &s.acked);
    db.close().unwrap();
}

#[test]
fn a_failed_rename_during_restore_leaves_the_empty_target_empty_and_a_retry_succeeds() {
    let (s, dest, _) = checkpointed();
    let target = s.dir.path().join("restored");
    std::fs::create_dir(&target).unwrap();
    let fault = FaultFs::new();
    let id = fault.add(FaultRule::new(Op::Rename, "restored", Trigger::Nth(1), FaultKind::Eio));
    let err = restore_checkpoint_in(&*fault, &dest, &target).expect_err("the staging copy cannot be renamed");
    assert!(matches!(&err, Error::Io { path, .. } if path == &target), "{err:?}");
    assert_eq!(fault.fired(id), 1);
    assert!(target.is_dir() && list(&target).is_empty(), "the empty target stays empty");
    assert_eq!(names_with(s.dir.path(), "restoring"), Vec::<PathBuf>::new(), "the staging copy is removed");
    restore_checkpoint_in(&*fault, &dest, &target).expect("the retry succeeds");
    let db = Db::open(&target, options(Fs::os())).expect("the restored database opens");
    assert_acked(&db, &s.acked);
    db.close().unwrap();
}
