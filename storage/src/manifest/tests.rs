//! Tests of the manifest: replay, rotation, torn tails, corruption, crash points of the `CURRENT`
//! switch and validation. This file holds the shared helpers and the tests of replay and rotation;
//! `tests/` holds recovery, validation and property tests.

use std::fs;
use std::path::Path;

use crate::schema::{ColumnDef, ColumnType, FamilyDef, TableDef};
use crate::selector::{SeriesSelector, TimeRange};

use super::*;

mod crash;
mod proptests;
mod recovery;
mod validation;

pub(super) fn table(id: u32, name: &str, families: &[(u32, &str)]) -> TableDef {
    TableDef {
        id,
        name: name.into(),
        families: families
            .iter()
            .map(|&(fid, fname)| FamilyDef {
                id: fid,
                name: fname.into(),
                columns: vec![ColumnDef { id: 0, name: "value".into(), ty: ColumnType::F64 }],
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
        tombstone_mark: 0,
    }
}

pub(super) fn tombstone(id: u64, table: u32, family: Option<u32>) -> Tombstone {
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
pub(super) fn history() -> Vec<Vec<Edit>> {
    vec![
        vec![Edit::CreateTable(table(0, "weather", &[(0, "readings"), (1, "meta")]))],
        vec![Edit::CreateTable(table(1, "trucks", &[(2, "gps")]))],
        vec![Edit::AddFile(file(0, 0)), Edit::FlushedSeq { family: 0, seq: 50 }, Edit::LastSeq(60)],
        vec![Edit::AddFile(file(1, 2)), Edit::AddFile(file(2, 0))],
        vec![Edit::AddTombstone(tombstone(0, 0, Some(1))), Edit::AddTombstone(tombstone(1, 1, None))],
        vec![Edit::RemoveFile { family: 0, id: 0 }, Edit::AddFile(file(3, 0))],
        vec![Edit::RemoveTombstone(0)],
        vec![Edit::DropTable(1)],
        vec![Edit::LastSeq(90), Edit::FlushedSeq { family: 1, seq: 80 }],
    ]
}

pub(super) fn opts(max_records: u64, max_bytes: u64) -> ManifestOptions {
    ManifestOptions { max_records, max_bytes }
}

pub(super) fn apply_all(m: &mut Manifest, state: &mut ManifestState, groups: Vec<Vec<Edit>>) {
    for group in groups {
        m.apply(state, group).expect("valid group");
    }
}

pub(super) fn manifest_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("MANIFEST-"))
        .collect();
    names.sort();
    names
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// Offsets of every record in a manifest file (header included), by walking the framing.
pub(super) fn record_offsets(bytes: &[u8]) -> Vec<usize> {
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
    assert_eq!(fs::read_to_string(dir.path().join(CURRENT)).expect("CURRENT"), "MANIFEST-000001\n");
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000001"]);
}

#[test]
fn reopen_gives_the_same_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    assert_eq!(state.live_file_ids().into_iter().collect::<Vec<_>>(), [2, 3]);
    assert_eq!(state.table_by_name("weather").map(|t| t.id), Some(0));
    assert!(state.table_by_name("trucks").is_none());
    assert_eq!(state.tombstones.keys().copied().collect::<Vec<_>>(), Vec::<u64>::new());
    assert_eq!((state.next_table_id, state.next_family_id, state.next_file_id), (2, 3, 4));
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
    let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), opts(3, u64::MAX)).expect("create");
    apply_all(&mut m, &mut state, history());
    // 9 groups with a rotation after every 4th record appended since the snapshot.
    assert_eq!(m.path(), dir.path().join("MANIFEST-000003"));
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000003"]);
    assert_eq!(fs::read_to_string(dir.path().join(CURRENT)).expect("CURRENT"), "MANIFEST-000003\n");
    drop(m);
    let (m, reopened) = Manifest::create_or_open_with(dir.path(), opts(3, u64::MAX)).expect("reopen");
    assert_eq!(reopened, state);
    assert_eq!(m.path(), dir.path().join("MANIFEST-000003"));
    assert_eq!(manifest_files(dir.path()), ["MANIFEST-000003"]);
}

#[test]
fn rotation_past_the_byte_threshold_keeps_the_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), opts(u64::MAX, 600)).expect("create");
    apply_all(&mut m, &mut state, history());
    assert_ne!(m.path(), dir.path().join("MANIFEST-000001"), "no rotation happened");
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
        vec![Edit::AddFile(file(9, 7)), Edit::AddTombstone(tombstone(5, 4, Some(7)))],
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
    let counters = (reopened.next_table_id, reopened.next_family_id, reopened.next_file_id);
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
    assert_eq!(state.table_by_name("renamed").map(|t| t.families.len()), Some(2));
    assert_eq!(state.next_family_id, 3);
}

#[test]
fn an_empty_group_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let len = fs::metadata(m.path()).expect("metadata").len();
    m.apply(&mut state, vec![]).expect("empty group");
    assert_eq!(fs::metadata(m.path()).expect("metadata").len(), len);
}

#[test]
fn the_snapshot_does_not_count_toward_the_next_rotation_after_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = opts(1, u64::MAX);
    let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), options).expect("create");
    apply_all(&mut m, &mut state, history().into_iter().take(2).collect());
    assert_eq!(m.path(), dir.path().join("MANIFEST-000002"));
    drop(m);
    let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), options).expect("reopen");
    apply_all(&mut m, &mut state, history().into_iter().skip(2).take(1).collect());
    assert_eq!(m.path(), dir.path().join("MANIFEST-000002"), "one record is not past the threshold");
    apply_all(&mut m, &mut state, history().into_iter().skip(3).take(1).collect());
    assert_eq!(m.path(), dir.path().join("MANIFEST-000003"));
}

#[test]
fn producer_marks_survive_rotation_in_chunks_and_forget_goes_first() {
    use crate::producer::ProducerMark;
    let mark = |i: usize, seq| ProducerMark { id: format!("p{i}"), applied_seq: seq, active_ms: 5 };
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    let set: Vec<ProducerMark> = (0..2500).map(|i| mark(i, 9)).collect();
    apply_all(&mut m, &mut state, vec![vec![Edit::Producers { as_of_seq: 40, set, forget: Vec::new() }]]);
    // Lowering a mark is refused unless the producer is forgotten in the same edit.
    let lower = Edit::Producers { as_of_seq: 41, set: vec![mark(0, 3)], forget: Vec::new() };
    assert!(m.apply(&mut state, vec![lower]).is_err());
    let reset = Edit::Producers { as_of_seq: 41, set: vec![mark(0, 3)], forget: vec!["p0".into(), "p1".into()] };
    m.apply(&mut state, vec![reset]).expect("forget then set");
    let bad = Edit::Producers { as_of_seq: 42, set: vec![mark(0, 0)], forget: Vec::new() };
    assert!(m.apply(&mut state, vec![bad]).is_err(), "seq 0 is refused");
    assert_eq!(state.producers.len(), 2499);
    assert_eq!(state.producers["p0"].applied_seq, 3);
    assert_eq!(state.producers_as_of, 41);
    let chunks = state.snapshot_edits().iter().filter(|e| matches!(e, Edit::Producers { .. })).count();
    assert_eq!(chunks, 3, "1,000 marks per snapshot edit");
    m.rotate(&state).expect("rotate");
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
}

#[test]
fn closed_after_is_kept_per_family_survives_reopen_and_snapshots_and_goes_with_its_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(
        &mut m,
        &mut state,
        vec![
            vec![Edit::CreateTable(table(0, "weather", &[(0, "readings"), (1, "meta")]))],
            vec![Edit::CreateTable(table(1, "trucks", &[(2, "gps")]))],
            vec![
                Edit::SetClosedAfter { family: 0, closed_after_ns: Some(5) },
                Edit::SetClosedAfter { family: 1, closed_after_ns: Some(0) },
                Edit::SetClosedAfter { family: 2, closed_after_ns: Some(9) },
                Edit::SetCompactionWindow { family: 1, window_ns: Some(7) },
            ],
            vec![Edit::SetClosedAfter { family: 1, closed_after_ns: None }],
        ],
    );
    assert_eq!(state.closed_after.iter().map(|(&f, &t)| (f, t)).collect::<Vec<_>>(), [(0, 5), (2, 9)]);
    let mut rebuilt = ManifestState::default();
    for edit in state.snapshot_edits() {
        rebuilt.apply(&edit).expect("snapshot edit");
    }
    assert_eq!(rebuilt, state, "a rotated manifest keeps the settings");
    let negative = state.clone().apply(&Edit::SetClosedAfter { family: 0, closed_after_ns: Some(-1) });
    assert!(matches!(negative, Err(Error::InvalidEdit { reason: EditError::BadClosedAfter { family: 0, .. }, .. })));
    let unknown = state.clone().apply(&Edit::SetClosedAfter { family: 42, closed_after_ns: Some(1) });
    assert!(matches!(unknown, Err(Error::InvalidEdit { reason: EditError::UnknownFamily { family: 42 }, .. })));
    apply_all(&mut m, &mut state, vec![vec![Edit::DropTable(1)]]);
    assert_eq!(state.closed_after.keys().copied().collect::<Vec<_>>(), [0], "dropped with its table");
    drop(m);
    let (_, reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state);
    // The edit as it reads in the file (JSON, snake_case), for operators with `jq`.
    let json = serde_json::to_string(&Edit::SetClosedAfter { family: 3, closed_after_ns: Some(60) }).expect("json");
    assert_eq!(json, r#"{"set_closed_after":{"family":3,"closed_after_ns":60}}"#);
}
