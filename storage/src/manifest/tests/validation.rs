//! Validation: every refused edit names its reason and changes neither the state nor the file.

use std::fs;

use crate::schema::ColumnType;

use super::super::*;
use super::{apply_all, file, table, tombstone};

/// Runs `group` against the state built from `setup` and checks that it is refused with
/// `expected` and that neither the state nor the file changed.
fn assert_rejected(setup: Vec<Vec<Edit>>, group: Vec<Edit>, expected: EditError) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, setup);
    let before = state.clone();
    let bytes = fs::read(m.path()).expect("read");
    match m.apply(&mut state, group.clone()) {
        Err(Error::InvalidEdit { reason, .. }) => assert_eq!(reason, expected, "{group:?}"),
        other => panic!("{group:?}: expected InvalidEdit, got {other:?}"),
    }
    assert_eq!(state, before, "{group:?}");
    assert_eq!(fs::read(m.path()).expect("read"), bytes, "{group:?}");
    // The manifest still works after a refusal.
    let seq = state.last_seq + 1;
    m.apply(&mut state, vec![Edit::LastSeq(seq)]).expect("valid edit");
}

#[test]
fn invalid_edits_are_rejected_and_change_nothing() {
    let base = || vec![vec![Edit::CreateTable(table(0, "t", &[(0, "a"), (1, "b")]))]];
    let with_file = || {
        let mut g = base();
        g.push(vec![Edit::AddFile(file(5, 0)), Edit::FlushedSeq { family: 0, seq: 9 }]);
        g.push(vec![Edit::LastSeq(20)]);
        g
    };
    assert_rejected(vec![], vec![Edit::AddFile(file(0, 3))], EditError::UnknownFamily { family: 3 });
    assert_rejected(base(), vec![Edit::CreateTable(table(0, "u", &[(2, "a")]))], EditError::TableIdInUse { table: 0 });
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "t", &[(2, "a")]))],
        EditError::TableNameInUse { name: "t".into(), table: 0 },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "u", &[(1, "a")]))],
        EditError::FamilyIdInUse { family: 1, owner: 0 },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "u", &[(2, "a"), (3, "a")]))],
        EditError::DuplicateFamilyName { table: 1, name: "a".into() },
    );
    assert_rejected(base(), vec![Edit::CreateTable(table(1, "u", &[]))], EditError::NoFamilies { table: 1 });
    let bad = Manifest::create_or_open(tempfile::tempdir().expect("tempdir").path())
        .and_then(|(_, mut s)| s.apply(&Edit::CreateTable(table(1, "../x", &[(2, "a")]))));
    assert!(
        matches!(bad, Err(Error::InvalidEdit { edit: "CreateTable", reason: EditError::BadName { table: 1, .. } })),
        "{bad:?}"
    );
    let mut retyped = table(0, "t", &[(0, "a"), (1, "b")]);
    retyped.families[0].columns[0].ty = ColumnType::String;
    assert_rejected(
        base(),
        vec![Edit::ReplaceTable(retyped)],
        EditError::ColumnTypeChanged { family: 0, column: 0, old: ColumnType::F64, new: ColumnType::String },
    );
    assert_rejected(base(), vec![Edit::DropTable(4)], EditError::UnknownTable { table: 4 });
    assert_rejected(with_file(), vec![Edit::AddFile(file(5, 1))], EditError::FileIdInUse { id: 5, family: 0 });
    assert_rejected(
        with_file(),
        vec![Edit::RemoveFile { family: 1, id: 5 }],
        EditError::UnknownFile { family: 1, id: 5 },
    );
    let mut inverted = file(6, 0);
    inverted.min_ts = 100;
    inverted.max_ts = 99;
    assert_rejected(
        with_file(),
        vec![Edit::AddFile(inverted)],
        EditError::FileBounds { id: 6, min_ts: 100, max_ts: 99, min_seq: 1, max_seq: 50 },
    );
    assert_rejected(
        with_file(),
        vec![Edit::FlushedSeq { family: 0, seq: 8 }],
        EditError::SeqBackwards { family: Some(0), current: 9, got: 8 },
    );
    assert_rejected(
        with_file(),
        vec![Edit::LastSeq(19)],
        EditError::SeqBackwards { family: None, current: 20, got: 19 },
    );
    assert_rejected(
        base(),
        vec![Edit::AddTombstone(tombstone(0, 0, Some(7)))],
        EditError::FamilyNotInTable { table: 0, family: 7 },
    );
    assert_rejected(base(), vec![Edit::RemoveTombstone(3)], EditError::UnknownTombstone { id: 3 });
    assert_rejected(
        base(),
        vec![Edit::AddFile(file(u64::MAX, 0))],
        EditError::IdOverflow { kind: IdKind::File, id: u64::MAX },
    );
    assert_rejected(
        vec![],
        vec![Edit::Header { magic: MAGIC.into(), version: FORMAT_VERSION, snapshot_records: 0 }],
        EditError::HeaderNotAllowed,
    );
    // A group whose first edits are valid is refused whole when a later one is not.
    assert_rejected(
        base(),
        vec![Edit::AddFile(file(1, 0)), Edit::LastSeq(5), Edit::RemoveFile { family: 0, id: 2 }],
        EditError::UnknownFile { family: 0, id: 2 },
    );
}
