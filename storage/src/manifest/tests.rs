//! Tests of the manifest: replay, rotation, torn tails, corruption, crash points of the `CURRENT`
//! switch and validation. Property tests live in `proptests.rs`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::schema::{ColumnDef, ColumnType, FamilyDef, TableDef};
use crate::selector::{SeriesSelector, TimeRange};

use super::files::{CURRENT_TMP, manifest_name};
use super::writer::CrashPoint;
use super::*;

mod proptests;

pub(super) fn table(id: u32, name: &str, families: &[(u32, &str)]) -> TableDef {
    TableDef {
        id,
        name: name.into(),
        families: families
            .iter()
            .map(|&(fid, fname)| FamilyDef {
                id: fid,
                name: fname.into(),
                columns: vec![ColumnDef {
                    id: 0,
                    name: "value".into(),
                    ty: ColumnType::F64,
                }],
                ttl_ns: None,
            })
            .collect(),
        dynamic_columns: false,
        ttl_ns: None,
    }
}

pub(super) fn file(id: u64, family: u32) -> FileMeta {
    FileMeta {
        id,
        family,
        size: 4096u64.wrapping_add(id),
        rows: 100,
        series: 3,
        min_ts: 10,
        max_ts: 20 + (id % 1000) as i64,
        min_seq: 1,
        max_seq: 50,
        level: 0,
    }
}

fn tombstone(id: u64, table: u32, family: Option<u32>) -> Tombstone {
    Tombstone {
        id,
        table,
        family,
        selector: SeriesSelector::Prefix("truck_".into()),
        range: TimeRange::new(0, 1000),
        seq: 77,
    }
}

/// A history touching every kind of edit.
fn history() -> Vec<Vec<Edit>> {
    vec![
        vec![Edit::CreateTable(table(
            0,
            "weather",
            &[(0, "readings"), (1, "meta")],
        ))],
        vec![Edit::CreateTable(table(1, "trucks", &[(2, "gps")]))],
        vec![
            Edit::AddFile(file(0, 0)),
            Edit::FlushedSeq { family: 0, seq: 50 },
            Edit::LastSeq(60),
        ],
        vec![Edit::AddFile(file(1, 2)), Edit::AddFile(file(2, 0))],
        vec![
            Edit::AddTombstone(tombstone(0, 0, Some(1))),
            Edit::AddTombstone(tombstone(1, 1, None)),
        ],
        vec![
            Edit::RemoveFile { family: 0, id: 0 },
            Edit::AddFile(file(3, 0)),
        ],
        vec![Edit::RemoveTombstone(0)],
        vec![Edit::DropTable(1)],
        vec![Edit::LastSeq(90), Edit::FlushedSeq { family: 1, seq: 80 }],
    ]
}

fn opts(max_records: u64, max_bytes: u64) -> ManifestOptions {
    ManifestOptions {
        max_records,
        max_bytes,
    }
}

fn apply_all(m: &mut Manifest, state: &mut ManifestState, groups: Vec<Vec<Edit>>) {
    for group in groups {
        m.apply(state, group).expect("valid group");
    }
}

fn manifest_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("MANIFEST-"))
        .collect();
    names.sort();
    names
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// Offsets of every record in a manifest file (header included), by walking the framing.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 0;
    while pos + RECORD_HEADER_LEN <= bytes.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        pos += RECORD_HEADER_LEN + len;
    }
    offsets
}

#[test]
fn a_new_directory_gets_current_and_the_first_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (m, state) = Manifest::create_or_open(dir.path()).expect("create");
    assert_eq!(state, ManifestState::default());
    assert_eq!(m.path(), dir.path().join("MANIFEST-000001"));
    assert_eq!(
        fs::read_to_string(dir.path().join(CURRENT)).expect("CURRENT"),
        "MANIFEST-000001\n"
    );
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000001"]);
}

#[test]
fn reopen_gives_the_same_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    assert_eq!(
        state.live_file_ids().into_iter().collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(state.table_by_name("weather").map(|t| t.id), Some(0));
    assert!(state.table_by_name("trucks").is_none());
    assert_eq!(
        state.tombstones.keys().copied().collect::<Vec<_>>(),
        Vec::<u64>::new()
    );
    assert_eq!(
        (
            state.next_table_id,
            state.next_family_id,
            state.next_file_id
        ),
        (2, 3, 4)
    );
    assert_eq!(state.last_seq, 90);
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
}

#[test]
fn snapshot_edits_rebuild_the_state() {
    let mut state = ManifestState::default();
    for edit in history().into_iter().flatten() {
        state.apply(&edit).expect("valid edit");
    }
    let mut rebuilt = ManifestState::default();
    for edit in state.snapshot_edits() {
        rebuilt.apply(&edit).expect("snapshot edit");
    }
    assert_eq!(rebuilt, state);
}

#[test]
fn rotation_past_the_record_threshold_keeps_the_state_and_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) =
        Manifest::create_or_open_with(dir.path(), opts(3, u64::MAX)).expect("create");
    apply_all(&mut m, &mut state, history());
    // 9 groups with a rotation after every 4th record appended since the snapshot.
    assert_eq!(m.path(), dir.path().join("MANIFEST-000003"));
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000003"]);
    assert_eq!(
        fs::read_to_string(dir.path().join(CURRENT)).expect("CURRENT"),
        "MANIFEST-000003\n"
    );
    drop(m);
    let (m, reopened) =
        Manifest::create_or_open_with(dir.path(), opts(3, u64::MAX)).expect("reopen");
    assert_eq!(reopened, state);
    assert_eq!(m.path(), dir.path().join("MANIFEST-000003"));
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000003"]);
}

#[test]
fn rotation_past_the_byte_threshold_keeps_the_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) =
        Manifest::create_or_open_with(dir.path(), opts(u64::MAX, 600)).expect("create");
    apply_all(&mut m, &mut state, history());
    assert_ne!(
        m.path(),
        dir.path().join("MANIFEST-000001"),
        "no rotation happened"
    );
    assert_eq!(manifest_files(dir.path()).len(), 1);
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
}

#[test]
fn ids_of_dropped_objects_stay_used_after_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let groups = vec![
        vec![Edit::CreateTable(table(4, "a", &[(7, "f")]))],
        vec![
            Edit::AddFile(file(9, 7)),
            Edit::AddTombstone(tombstone(5, 4, Some(7))),
        ],
        vec![Edit::FlushedSeq { family: 7, seq: 3 }],
        vec![Edit::DropTable(4)],
    ];
    apply_all(&mut m, &mut state, groups);
    assert!(state.tables.is_empty() && state.files.is_empty() && state.flushed_seq.is_empty());
    assert!(state.tombstones.is_empty());
    m.rotate(&state).expect("rotate");
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
    let counters = (
        reopened.next_table_id,
        reopened.next_family_id,
        reopened.next_file_id,
    );
    assert_eq!(counters, (5, 8, 10));
    assert_eq!(reopened.next_tombstone_id, 6);
}

#[test]
fn replace_table_drops_left_out_families_with_their_files() {
    let mut state = ManifestState::default();
    let edits = [
        Edit::CreateTable(table(0, "t", &[(0, "a"), (1, "b")])),
        Edit::AddFile(file(0, 1)),
        Edit::FlushedSeq { family: 1, seq: 4 },
        Edit::AddTombstone(tombstone(0, 0, Some(1))),
        Edit::ReplaceTable(table(0, "renamed", &[(0, "a"), (2, "c")])),
    ];
    for edit in &edits {
        state.apply(edit).expect("valid edit");
    }
    assert!(state.live_file_ids().is_empty());
    assert!(state.flushed_seq.is_empty() && state.tombstones.is_empty());
    assert_eq!(state.files.keys().copied().collect::<Vec<_>>(), [0, 2]);
    assert_eq!(
        state.table_by_name("renamed").map(|t| t.families.len()),
        Some(2)
    );
    assert_eq!(state.next_family_id, 3);
}

#[test]
fn a_torn_last_record_is_ignored_at_every_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let mut groups = history();
    let last = groups.pop().expect("a last group");
    apply_all(&mut m, &mut state, groups);
    let before = state.clone();
    let good_len = fs::metadata(m.path()).expect("metadata").len();
    m.apply(&mut state, last).expect("last group");
    let full_len = fs::metadata(m.path()).expect("metadata").len();
    drop(m);
    for cut in good_len..full_len {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(dir.path(), copy.path());
        let path = copy.path().join("MANIFEST-000001");
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(cut))
            .expect("cut");
        let (mut m, mut reopened) = Manifest::create_or_open(copy.path()).expect("reopen torn");
        assert_eq!(reopened, before, "cut at {cut}");
        assert_eq!(
            fs::metadata(&path).expect("metadata").len(),
            good_len,
            "tail not cut off"
        );
        // Appending after the cut works and survives another reopen.
        m.apply(&mut reopened, vec![Edit::LastSeq(1000)])
            .expect("append after cut");
        drop(m);
        let (_, again) = Manifest::create_or_open(copy.path()).expect("reopen again");
        assert_eq!(again.last_seq, 1000);
        assert_eq!(again, reopened);
    }
}

#[test]
fn a_flipped_byte_in_an_earlier_record_is_corrupt_naming_file_and_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    let path = m.path().to_path_buf();
    drop(m);
    let bytes = fs::read(&path).expect("read");
    let offsets = record_offsets(&bytes);
    assert_eq!(offsets.len(), 1 + history().len());
    // Every byte of the third edit record: length, checksum and payload.
    let (start, end) = (offsets[3], offsets[4]);
    for at in start..end {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        fs::write(&path, &bad).expect("write");
        match Manifest::create_or_open(dir.path()) {
            Err(Error::Corrupt { file, offset, .. }) => {
                assert_eq!(file, path, "flip at {at}");
                assert_eq!(offset, start as u64, "flip at {at}");
            }
            other => panic!("flip at {at}: expected Corrupt, got {other:?}"),
        }
        // The corrupt file is left as it was for inspection.
        assert_eq!(fs::read(&path).expect("read"), bad);
    }
}

#[test]
fn a_flipped_byte_in_the_last_record_counts_as_torn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let mut groups = history();
    let last = groups.pop().expect("a last group");
    apply_all(&mut m, &mut state, groups);
    let before = state.clone();
    m.apply(&mut state, last).expect("last group");
    let path = m.path().to_path_buf();
    drop(m);
    let mut bytes = fs::read(&path).expect("read");
    let at = bytes.len() - 3;
    bytes[at] ^= 1;
    fs::write(&path, &bytes).expect("write");
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, before);
}

fn crash_during_rotation(point: CrashPoint) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) =
        Manifest::create_or_open_with(dir.path(), opts(2, u64::MAX)).expect("create");
    m.crash_at(point);
    // The third record appended triggers the rotation, which "crashes" at `point`.
    apply_all(&mut m, &mut state, history().into_iter().take(3).collect());
    drop(m);
    let strays = manifest_files(dir.path());
    assert_eq!(strays, ["MANIFEST-000001", "MANIFEST-000002"], "{point:?}");
    assert_eq!(
        dir.path().join(CURRENT_TMP).exists(),
        point == CrashPoint::BeforeRename
    );
    let live = if point == CrashPoint::AfterRename {
        2
    } else {
        1
    };
    let (mut m, mut reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state, "{point:?}");
    assert_eq!(m.path(), dir.path().join(manifest_name(live)));
    assert_eq!(manifest_files(dir.path()), [manifest_name(live)]);
    assert!(!dir.path().join(CURRENT_TMP).exists());
    // The database goes on normally.
    apply_all(
        &mut m,
        &mut reopened,
        history().into_iter().skip(3).collect(),
    );
    m.rotate(&reopened).expect("rotate");
    drop(m);
    let (_, last) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(last, reopened);
    assert_eq!(manifest_files(dir.path()), [manifest_name(live + 1)]);
}

#[test]
fn a_crash_after_writing_the_new_manifest_keeps_the_old_one() {
    crash_during_rotation(CrashPoint::AfterNewManifest);
}

#[test]
fn a_crash_before_renaming_current_keeps_the_old_one() {
    crash_during_rotation(CrashPoint::BeforeRename);
}

#[test]
fn a_crash_after_renaming_current_uses_the_new_one() {
    crash_during_rotation(CrashPoint::AfterRename);
}

#[test]
fn a_stray_garbage_manifest_and_current_tmp_are_cleaned_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    drop(m);
    fs::write(dir.path().join("MANIFEST-000002"), b"half a snapshot").expect("write");
    fs::write(dir.path().join(CURRENT_TMP), b"MANIFEST-000002\n").expect("write");
    let (m, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
    assert_eq!(m.path(), dir.path().join("MANIFEST-000001"));
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000001"]);
    assert!(!dir.path().join(CURRENT_TMP).exists());
}

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
    m.apply(&mut state, vec![Edit::LastSeq(seq)])
        .expect("valid edit");
}

#[test]
fn invalid_edits_are_rejected_and_change_nothing() {
    let base = || {
        vec![vec![Edit::CreateTable(table(
            0,
            "t",
            &[(0, "a"), (1, "b")],
        ))]]
    };
    let with_file = || {
        let mut g = base();
        g.push(vec![
            Edit::AddFile(file(5, 0)),
            Edit::FlushedSeq { family: 0, seq: 9 },
        ]);
        g.push(vec![Edit::LastSeq(20)]);
        g
    };
    assert_rejected(
        vec![],
        vec![Edit::AddFile(file(0, 3))],
        EditError::UnknownFamily { family: 3 },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(0, "u", &[(2, "a")]))],
        EditError::TableIdInUse { table: 0 },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "t", &[(2, "a")]))],
        EditError::TableNameInUse {
            name: "t".into(),
            table: 0,
        },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "u", &[(1, "a")]))],
        EditError::FamilyIdInUse {
            family: 1,
            owner: 0,
        },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "u", &[(2, "a"), (3, "a")]))],
        EditError::DuplicateFamilyName {
            table: 1,
            name: "a".into(),
        },
    );
    assert_rejected(
        base(),
        vec![Edit::CreateTable(table(1, "u", &[]))],
        EditError::NoFamilies { table: 1 },
    );
    let bad = Manifest::create_or_open(tempfile::tempdir().expect("tempdir").path())
        .and_then(|(_, mut s)| s.apply(&Edit::CreateTable(table(1, "../x", &[(2, "a")]))));
    assert!(
        matches!(
            bad,
            Err(Error::InvalidEdit {
                edit: "CreateTable",
                reason: EditError::BadName { table: 1, .. }
            })
        ),
        "{bad:?}"
    );
    let mut retyped = table(0, "t", &[(0, "a"), (1, "b")]);
    retyped.families[0].columns[0].ty = ColumnType::String;
    assert_rejected(
        base(),
        vec![Edit::ReplaceTable(retyped)],
        EditError::ColumnTypeChanged {
            family: 0,
            column: 0,
            old: ColumnType::F64,
            new: ColumnType::String,
        },
    );
    assert_rejected(
        base(),
        vec![Edit::DropTable(4)],
        EditError::UnknownTable { table: 4 },
    );
    assert_rejected(
        with_file(),
        vec![Edit::AddFile(file(5, 1))],
        EditError::FileIdInUse { id: 5, family: 0 },
    );
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
        EditError::FileBounds {
            id: 6,
            min_ts: 100,
            max_ts: 99,
            min_seq: 1,
            max_seq: 50,
        },
    );
    assert_rejected(
        with_file(),
        vec![Edit::FlushedSeq { family: 0, seq: 8 }],
        EditError::SeqBackwards {
            family: Some(0),
            current: 9,
            got: 8,
        },
    );
    assert_rejected(
        with_file(),
        vec![Edit::LastSeq(19)],
        EditError::SeqBackwards {
            family: None,
            current: 20,
            got: 19,
        },
    );
    assert_rejected(
        base(),
        vec![Edit::AddTombstone(tombstone(0, 0, Some(7)))],
        EditError::FamilyNotInTable {
            table: 0,
            family: 7,
        },
    );
    assert_rejected(
        base(),
        vec![Edit::RemoveTombstone(3)],
        EditError::UnknownTombstone { id: 3 },
    );
    assert_rejected(
        base(),
        vec![Edit::AddFile(file(u64::MAX, 0))],
        EditError::IdOverflow {
            kind: IdKind::File,
            id: u64::MAX,
        },
    );
    assert_rejected(
        vec![],
        vec![Edit::Header {
            magic: MAGIC.into(),
            version: FORMAT_VERSION,
        }],
        EditError::HeaderNotAllowed,
    );
    // A group whose first edits are valid is refused whole when a later one is not.
    assert_rejected(
        base(),
        vec![
            Edit::AddFile(file(1, 0)),
            Edit::LastSeq(5),
            Edit::RemoveFile { family: 0, id: 2 },
        ],
        EditError::UnknownFile { family: 0, id: 2 },
    );
}

#[test]
fn an_empty_group_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let len = fs::metadata(m.path()).expect("metadata").len();
    m.apply(&mut state, vec![]).expect("empty group");
    assert_eq!(fs::metadata(m.path()).expect("metadata").len(), len);
}

fn write_raw_manifest(dir: &Path, records: &[&str]) -> PathBuf {
    let mut bytes = Vec::new();
    for payload in records {
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32c::crc32c(payload.as_bytes()).to_le_bytes());
        bytes.extend_from_slice(payload.as_bytes());
    }
    let path = dir.join("MANIFEST-000001");
    fs::write(&path, bytes).expect("write");
    fs::write(dir.join(CURRENT), "MANIFEST-000001\n").expect("write");
    path
}

#[test]
fn a_newer_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_raw_manifest(
        dir.path(),
        &[
            r#"[{"header":{"magic":"isobar-manifest","version":2}}]"#,
            r#"[{"from_the_future":1}]"#,
        ],
    );
    match Manifest::create_or_open(dir.path()) {
        Err(Error::UnsupportedVersion {
            file,
            version: 2,
            supported: 1,
        }) => assert_eq!(file, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn a_wrong_magic_or_missing_header_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_raw_manifest(
        dir.path(),
        &[r#"[{"header":{"magic":"sqlite","version":1}}]"#],
    );
    let err = Manifest::create_or_open(dir.path()).expect_err("bad magic");
    assert!(
        matches!(&err, Error::Corrupt { offset: 0, reason: CorruptReason::BadMagic { got }, .. } if got == "sqlite"),
        "{err:?}"
    );
    write_raw_manifest(dir.path(), &[r#"[{"last_seq":4}]"#]);
    let err = Manifest::create_or_open(dir.path()).expect_err("no header");
    assert!(
        matches!(
            err,
            Error::Corrupt {
                offset: 0,
                reason: CorruptReason::MissingHeader,
                ..
            }
        ),
        "{err:?}"
    );
    write_raw_manifest(
        dir.path(),
        &[
            r#"[{"header":{"magic":"isobar-manifest","version":1}}]"#,
            r#"[{"remove_tombstone":4}]"#,
        ],
    );
    let err = Manifest::create_or_open(dir.path()).expect_err("rejected on replay");
    assert!(
        matches!(
            err,
            Error::Corrupt {
                offset: 60,
                reason: CorruptReason::Rejected(EditError::UnknownTombstone { id: 4 }),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_current_that_names_no_manifest_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join(CURRENT), "../../etc/passwd\n").expect("write");
    let err = Manifest::create_or_open(dir.path()).expect_err("bad CURRENT");
    assert!(
        matches!(&err, Error::BadCurrent { content, .. } if content.contains("passwd")),
        "{err:?}"
    );
    fs::write(dir.path().join(CURRENT), "MANIFEST-000009\n").expect("write");
    let err = Manifest::create_or_open(dir.path()).expect_err("missing manifest");
    assert!(
        matches!(&err, Error::MissingManifest { manifest, .. } if manifest.ends_with("MANIFEST-000009")),
        "{err:?}"
    );
}

#[test]
fn manifests_without_current_are_refused_unless_creation_was_unfinished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    drop(m);
    fs::remove_file(dir.path().join(CURRENT)).expect("remove");
    let err = Manifest::create_or_open(dir.path()).expect_err("no CURRENT");
    assert!(
        matches!(&err, Error::MissingCurrent { manifests, .. } if manifests.len() == 1),
        "{err:?}"
    );
    // A crash during creation leaves a header-only or half-written MANIFEST-000001.
    let header = super::log::header_record().expect("header");
    for cut in [0, 5, header.len() - 1, header.len()] {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("MANIFEST-000001"), &header[..cut]).expect("write");
        let (m, state) = Manifest::create_or_open(dir.path()).expect("redo creation");
        assert_eq!(state, ManifestState::default());
        assert_eq!(m.path(), dir.path().join("MANIFEST-000001"));
        assert!(dir.path().join(CURRENT).exists());
    }
}
