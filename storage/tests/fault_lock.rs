//! Injected faults on the data directory's `LOCK`: taking it goes through the file-system layer,
//! so a failure there fails the open, names the file and changes nothing; a lock held through
//! the layer still keeps a second open out. Rows of `docs/faults.md` (section "Open").

mod fault_support;

use std::collections::BTreeMap;
use std::path::Path;

use fault_support::{Store, assert_acked, options};
use isobar_storage::fs::{FaultFs, FaultKind, FaultRule, Op, Trigger};
use isobar_storage::{Db, Error};

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
                out.insert(name, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn lock_failure_fails_the_open_naming_the_lock_file_and_changes_nothing() {
    let mut s = Store::new();
    s.write_ok(3);
    s.db.flush().unwrap();
    s.write_ok(2);
    s.db.close().unwrap();
    let before = contents(s.dir.path());
    assert!(before.contains_key("LOCK") && before.keys().any(|k| k.ends_with(".sst")), "{:?}", before.keys());

    let fault = FaultFs::new();
    let rule = fault.add(FaultRule::new(Op::Lock, "LOCK", Trigger::Nth(1), FaultKind::Eio));
    let err = Db::open(s.dir.path(), options(fault.handle())).expect_err("the LOCK cannot be taken");
    match &err {
        Error::Io { path, source } => {
            assert_eq!(path, &s.dir.path().join("LOCK"), "{err}");
            assert!(source.to_string().contains("Input/output error"), "{source}");
        }
        other => panic!("expected an I/O error on LOCK, got {other:?}"),
    }
    assert!(err.to_string().contains("LOCK"), "{err}");
    assert_eq!(fault.fired(rule), 1);
    assert_eq!(contents(s.dir.path()), before, "a failed open changes nothing on disk");

    // The fault is gone (it hit one call): the same layer opens the database with every row.
    let db = Db::open(s.dir.path(), options(fault.handle())).expect("open once the LOCK can be taken");
    assert_acked(&db, &s.acked);
    db.close().unwrap();
}

#[test]
fn a_lock_held_through_the_layer_keeps_a_second_open_out() {
    let mut s = Store::new();
    s.write_ok(1);
    // `s.db` holds the LOCK through its FaultFs; a second open through another layer is refused.
    let other = FaultFs::new();
    let err = Db::open(s.dir.path(), options(other.handle())).expect_err("the directory is in use");
    assert!(
        matches!(&err, Error::Locked { path } if path == &s.dir.path().join("LOCK")),
        "expected Error::Locked naming LOCK, got {err:?}"
    );
    s.db.close().unwrap();
    let db = Db::open(s.dir.path(), options(other.handle())).expect("open after the first closed");
    assert_acked(&db, &s.acked);
    db.close().unwrap();
}
