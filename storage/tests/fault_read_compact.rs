//! Injected faults on reads, compactions and checkpoints: corrupt bytes from a read are a
//! checksum error naming file and block and mark the file bad; a compaction or checkpoint that
//! cannot write leaves the database as it was and succeeds once the fault clears. Rows of
//! `docs/faults.md` (sections "Reads", "Compaction", "Checkpoint").

mod fault_support;

use fault_support::{Store, assert_acked, options, read_all};
use isobar_storage::fs::{FaultFs, FaultKind, FaultRule, Fs, Op, Trigger};
use isobar_storage::{Db, Error, sst};

#[test]
fn corrupt_bytes_read_from_an_sstable_are_a_checksum_error_naming_file_and_block() {
    let mut s = Store::new();
    s.write_ok(10);
    s.db.flush().unwrap();
    s.db.close().unwrap();
    let fault = FaultFs::over(Fs::os());
    let db = Db::open(s.dir.path(), options(fault.handle())).unwrap();
    // The readers are open (footer, index); the next read is a data block.
    fault.add(FaultRule::new(Op::Read, ".sst", Trigger::Nth(1), FaultKind::CorruptRead { at: 0 }));
    let err = read_all(&db).expect_err("a corrupt block is never returned as data");
    match &err {
        Error::Sst(sst::Error::Corrupt { file, block, .. }) => {
            assert!(file.to_string_lossy().ends_with(".sst"), "{}", file.display());
            assert!(block.to_string().contains("block"), "{block}");
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().contains("crc32c mismatch"), "{err}");
    assert_eq!(db.stats().families.iter().map(|f| f.bad_files).sum::<usize>(), 1, "the file is marked bad");
    // The file itself is sound (the bytes were damaged in flight): a reopen reads everything.
    db.close().unwrap();
    let db = s.reopen_real();
    assert_eq!(db.stats().families.iter().map(|f| f.bad_files).sum::<usize>(), 0);
    db.close().unwrap();
}

#[test]
fn compaction_on_a_full_disk_keeps_its_inputs_and_succeeds_after_space_is_freed() {
    let mut s = Store::new();
    for _ in 0..3 {
        s.write_ok(5);
        s.db.flush().unwrap();
    }
    let before = s.db.stats().families.iter().map(|f| f.files).sum::<usize>();
    assert_eq!(before, 3);
    s.fault.add(FaultRule::new(Op::Write, ".sst", Trigger::From(1), FaultKind::NoSpace));
    let err = s.db.compact("m", None, None).expect_err("the compaction cannot write");
    assert!(matches!(&err, Error::DiskFull { during: "compaction", resumes: true, .. }), "{err:?}");
    assert_eq!(s.db.stats().families.iter().map(|f| f.files).sum::<usize>(), before, "inputs stay");
    assert_eq!(s.sst_files().len(), before, "the outputs were deleted");
    assert_acked(&s.db, &s.acked);
    s.write_ok(2);
    s.fault.clear();
    s.db.compact("m", None, None).expect("the compaction succeeds once space is freed");
    assert_eq!(s.db.stats().families.iter().map(|f| f.files).sum::<usize>(), 1);
    assert_acked(&s.db, &s.acked);
    let db = s.reopen_real();
    db.close().unwrap();
}

#[test]
fn checkpoint_link_failure_leaves_nothing_behind_and_a_retry_succeeds() {
    let mut s = Store::new();
    s.write_ok(5);
    let dest = s.dir.path().join("ckpt");
    s.fault.add(FaultRule::new(Op::Link, "ckpt", Trigger::From(1), FaultKind::Eio));
    let err = s.db.checkpoint(&dest).expect_err("the checkpoint cannot link or copy its files");
    assert!(matches!(&err, Error::Io { path, .. } if path.to_string_lossy().contains("ckpt")), "{err:?}");
    let partial = s.dir.path().join(".ckpt.partial");
    assert!(!dest.exists() && !partial.exists(), "no partial checkpoint is left");
    s.write_ok(2);
    s.fault.clear();
    let info = s.db.checkpoint(&dest).expect("the checkpoint succeeds once the fault is gone");
    assert!(!info.files.is_empty());
    isobar_storage::verify_checkpoint(&dest).expect("the checkpoint verifies");
    let db = s.reopen_real();
    db.close().unwrap();
}

#[test]
fn probability_faults_are_reproducible_from_their_seed() {
    let pattern = |seed| {
        let fault = FaultFs::new();
        let dir = tempfile::tempdir().unwrap();
        fault.add(FaultRule::new(Op::SyncDir, "", Trigger::Probability { p: 0.3, seed }, FaultKind::Eio));
        (0..64).map(|_| isobar_storage::fs::FileSystem::sync_dir(&*fault, dir.path()).is_err()).collect::<Vec<_>>()
    };
    let a = pattern(7);
    assert_eq!(a, pattern(7), "same seed, same failing calls");
    assert_ne!(a, pattern(8), "another seed, other calls");
    let failed = a.iter().filter(|f| **f).count();
    assert!((5..=35).contains(&failed), "about 30% of 64 calls fail: {failed}");
}
