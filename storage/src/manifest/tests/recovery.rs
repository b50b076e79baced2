//! Recovery: torn tails, corrupt records, crashes while switching `CURRENT`, stray files, bad
//! headers and pointers.

use std::fs;
use std::path::{Path, PathBuf};

use super::super::files::{CURRENT_TMP, manifest_name};
use super::super::writer::CrashPoint;
use super::super::*;
use super::{apply_all, copy_dir, history, manifest_files, opts, record_offsets};

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
        fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(cut)).expect("cut");
        let (mut m, mut reopened) = Manifest::create_or_open(copy.path()).expect("reopen torn");
        assert_eq!(reopened, before, "cut at {cut}");
        assert_eq!(fs::metadata(&path).expect("metadata").len(), good_len, "tail not cut off");
        // Appending after the cut works and survives another reopen.
        m.apply(&mut reopened, vec![Edit::LastSeq(1000)]).expect("append after cut");
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
    let (mut m, mut state) = Manifest::create_or_open_with(dir.path(), opts(2, u64::MAX)).expect("create");
    m.crash_at(point);
    // The third record appended triggers the rotation, which "crashes" at `point`.
    apply_all(&mut m, &mut state, history().into_iter().take(3).collect());
    drop(m);
    let strays = manifest_files(dir.path());
    assert_eq!(strays, ["MANIFEST-000001", "MANIFEST-000002"], "{point:?}");
    assert_eq!(dir.path().join(CURRENT_TMP).exists(), point == CrashPoint::BeforeRename);
    let live = if point == CrashPoint::AfterRename { 2 } else { 1 };
    let (mut m, mut reopened) = Manifest::create_or_open(dir.path()).expect("reopen");
    assert_eq!(reopened, state, "{point:?}");
    assert_eq!(m.path(), dir.path().join(manifest_name(live)));
    assert_eq!(manifest_files(dir.path()), [manifest_name(live)]);
    assert!(!dir.path().join(CURRENT_TMP).exists());
    // The database goes on normally.
    apply_all(&mut m, &mut reopened, history().into_iter().skip(3).collect());
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
        &[r#"[{"header":{"magic":"isobar-manifest","version":2}}]"#, r#"[{"from_the_future":1}]"#],
    );
    match Manifest::create_or_open(dir.path()) {
        Err(Error::UnsupportedVersion { file, version: 2, supported: 1 }) => assert_eq!(file, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn a_wrong_magic_or_missing_header_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_raw_manifest(dir.path(), &[r#"[{"header":{"magic":"sqlite","version":1}}]"#]);
    let err = Manifest::create_or_open(dir.path()).expect_err("bad magic");
    assert!(
        matches!(&err, Error::Corrupt { offset: 0, reason: CorruptReason::BadMagic { got }, .. } if got == "sqlite"),
        "{err:?}"
    );
    write_raw_manifest(dir.path(), &[r#"[{"last_seq":4}]"#]);
    let err = Manifest::create_or_open(dir.path()).expect_err("no header");
    assert!(matches!(err, Error::Corrupt { offset: 0, reason: CorruptReason::MissingHeader, .. }), "{err:?}");
    write_raw_manifest(
        dir.path(),
        &[r#"[{"header":{"magic":"isobar-manifest","version":1}}]"#, r#"[{"remove_tombstone":4}]"#],
    );
    let err = Manifest::create_or_open(dir.path()).expect_err("rejected on replay");
    assert!(
        matches!(
            err,
            Error::Corrupt { offset: 60, reason: CorruptReason::Rejected(EditError::UnknownTombstone { id: 4 }), .. }
        ),
        "{err:?}"
    );
}

#[test]
fn a_current_that_names_no_manifest_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join(CURRENT), "../../etc/passwd\n").expect("write");
    let err = Manifest::create_or_open(dir.path()).expect_err("bad CURRENT");
    assert!(matches!(&err, Error::BadCurrent { content, .. } if content.contains("passwd")), "{err:?}");
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
    assert!(matches!(&err, Error::MissingCurrent { manifests, .. } if manifests.len() == 1), "{err:?}");
    // A crash during creation leaves a header-only or half-written MANIFEST-000001.
    let header = super::log::header_record(0).expect("header");
    for cut in [0, 5, header.len() - 1, header.len()] {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("MANIFEST-000001"), &header[..cut]).expect("write");
        let (m, state) = Manifest::create_or_open(dir.path()).expect("redo creation");
        assert_eq!(state, ManifestState::default());
        assert_eq!(m.path(), dir.path().join("MANIFEST-000001"));
        assert!(dir.path().join(CURRENT).exists());
    }
}

#[test]
fn a_cut_inside_the_snapshot_is_corrupt_not_torn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut m, mut state) = Manifest::create_or_open(dir.path()).expect("create");
    apply_all(&mut m, &mut state, history());
    m.rotate(&state).expect("rotate");
    let path = m.path().to_path_buf();
    drop(m);
    let bytes = fs::read(&path).expect("read");
    let offsets = record_offsets(&bytes);
    assert_eq!(offsets.len(), 2, "header and one snapshot record");
    // The snapshot was synced before CURRENT named the file: losing it is never a torn append.
    for cut in [offsets[1] + 1, bytes.len() - 1] {
        fs::write(&path, &bytes[..cut]).expect("write");
        let err = Manifest::create_or_open(dir.path()).expect_err("cut snapshot");
        assert!(
            matches!(
                &err,
                Error::Corrupt { file, offset, reason: CorruptReason::SnapshotIncomplete { expected: 1, found: 0 } }
                    if *file == path && *offset == offsets[1] as u64
            ),
            "cut at {cut}: {err:?}"
        );
    }
}
