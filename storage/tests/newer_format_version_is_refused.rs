//! A WAL segment, SSTable or manifest written by a newer build (a higher format version) is never
//! skipped as corrupt: whatever `wal_recovery` says, the open fails with a typed error naming the
//! file, the version met and the version this build reads, and the file is left as it was.
//!
//! Each test writes a real database, closes it, bumps the version field of one file (fixing the
//! checksum that covers it, so that only the version differs) and opens under every recovery mode.

mod common;

use std::path::{Path, PathBuf};

use common::{create_tables, f64_write, scan_all};
use isobar_storage::{Db, Error, Options, SeriesSelector, SyncPolicy, TimeRange, WalRecovery};

const MODES: [WalRecovery; 2] = [WalRecovery::Strict, WalRecovery::SkipCorrupt];

fn options(recovery: WalRecovery) -> Options {
    Options { sync: SyncPolicy::Always, wal_recovery: recovery, ..Options::default() }
}

/// Files in `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// A database with ten rows: the first five flushed into an SSTable, the last five only in the WAL.
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(WalRecovery::Strict)).unwrap();
    create_tables(&db);
    for i in 0..5 {
        db.write(f64_write("t1", "s", vec![i], "a", "x", vec![i as f64])).unwrap();
    }
    db.flush().unwrap();
    for i in 5..10 {
        db.write(f64_write("t1", "s", vec![i], "a", "x", vec![i as f64])).unwrap();
    }
    db.close().unwrap();
    dir
}

/// Opens under every mode and expects the refusal `check` accepts; then restores `original` and
/// checks that all ten rows are still there (nothing was skipped, truncated or deleted).
fn refused_under_every_mode(dir: &Path, file: &Path, original: &[u8], check: impl Fn(&Error) -> bool) {
    let bumped = std::fs::read(file).unwrap();
    for mode in MODES {
        match Db::open(dir, options(mode)) {
            Err(e) => {
                assert!(check(&e), "{mode:?}: unexpected error {e:?}");
                let text = e.to_string();
                assert!(text.contains(&file.display().to_string()), "{mode:?}: the message names the file: {text}");
                assert!(text.contains("version 2") || text.contains("format version 2"), "{mode:?}: {text}");
                assert!(text.contains("version 1"), "{mode:?}: names the version this build reads: {text}");
            }
            Ok(db) => {
                let rows = scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL).len();
                panic!("{mode:?}: a newer {} was opened (and {rows} of 10 rows read)", file.display());
            }
        }
        assert_eq!(std::fs::read(file).unwrap(), bumped, "{mode:?}: the refused file was changed");
    }
    std::fs::write(file, original).unwrap();
    let db = Db::open(dir, options(WalRecovery::Strict)).unwrap();
    assert_eq!(scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL).len(), 10);
    db.close().unwrap();
}

#[test]
fn a_newer_wal_segment_is_refused_under_every_recovery_mode() {
    let dir = populated();
    let segment = files(&dir.path().join("wal"), ".wal").pop().expect("a WAL segment");
    let original = std::fs::read(&segment).unwrap();
    // Segment header: magic [8], version u16 LE at 8, reserved u16, number u64, first seq u64,
    // crc32c of bytes 0..28 at 28.
    let mut bytes = original.clone();
    bytes[8..10].copy_from_slice(&2u16.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[..28]);
    bytes[28..32].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&segment, &bytes).unwrap();
    refused_under_every_mode(
        dir.path(),
        &segment,
        &original,
        |e| matches!(e, Error::Wal(isobar_storage::wal::Error::NewerVersion { segment: s, found: 2, supported: 1 }) if *s == segment),
    );
}

#[test]
fn a_newer_sstable_is_refused_under_every_recovery_mode() {
    let dir = populated();
    let sst = files(&dir.path().join("sst"), ".sst").pop().expect("an SSTable");
    let original = std::fs::read(&sst).unwrap();
    // Footer (last 64 bytes): crc32c at 48 over 0..48 and 52..64, version u16 LE at 52.
    let mut bytes = original.clone();
    let at = bytes.len() - 64;
    bytes[at + 52..at + 54].copy_from_slice(&2u16.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&bytes[at..at + 48]), &bytes[at + 52..]);
    bytes[at + 48..at + 52].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&sst, &bytes).unwrap();
    refused_under_every_mode(
        dir.path(),
        &sst,
        &original,
        |e| matches!(e, Error::Sst(isobar_storage::sst::Error::UnsupportedVersion { file, found: 2, supported: 1 }) if *file == sst),
    );
}

#[test]
fn a_newer_manifest_is_refused_under_every_recovery_mode() {
    let dir = populated();
    let current = std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    let manifest = dir.path().join(current.trim());
    let original = std::fs::read(&manifest).unwrap();
    // Records: len u32 LE, crc32c u32 LE of the payload, payload (JSON). The first is the header.
    let len = u32::from_le_bytes(original[0..4].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&original[8..8 + len]).unwrap();
    assert!(header.contains(r#""version":1"#), "header record: {header}");
    let newer = header.replace(r#""version":1"#, r#""version":2"#);
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(newer.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(newer.as_bytes()).to_le_bytes());
    bytes.extend_from_slice(newer.as_bytes());
    bytes.extend_from_slice(&original[8 + len..]);
    std::fs::write(&manifest, &bytes).unwrap();
    refused_under_every_mode(
        dir.path(),
        &manifest,
        &original,
        |e| matches!(e, Error::Manifest(isobar_storage::manifest::Error::UnsupportedVersion { file, version: 2, supported: 1 }) if *file == manifest),
    );
}
