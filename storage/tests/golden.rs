//! Golden files: a small database of the current format versions (WAL segment, SSTables,
//! manifest, CURRENT) checked in under `tests/golden/v1/db/`, and corrupted copies of its files
//! under `tests/golden/v1/corrupt/`. The current code must read the good files to exactly the
//! content written out below, and report each corruption as the named error it reports today, so
//! a change of any on-disk format (or of how damage is reported) cannot pass unnoticed.
//!
//! The files are made by [`regenerate_golden_files`] (ignored); re-make them only on a deliberate
//! format change, in a new `v<N>` folder next to the old one:
//! `cargo test -p isobar-storage --test golden -- --ignored regenerate_golden_files`.
//!
//! What the database holds (see [`write_content`]): table `golden`, family `obs` (`temp` f64,
//! `code` i64) and family `meta` (`ok` bool, `note` string); a first write flushed into one
//! SSTable per family, then two writes only in the WAL (one of them overwrites a flushed cell),
//! as a crash right after them would leave the directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use isobar_storage::sst::{BlockCache, SstInfo, SstReader};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Error, Options, ScanRequest, SeriesSelector, SeriesWrite, TableSpec, TimeRange,
};
use isobar_testkit::rows::{V, cell, rows};

const TABLE: &str = "golden";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1")
}

fn options() -> Options {
    Options::default()
}

/// Writes the golden content into `db`: first write, flush, then two writes left in the WAL.
fn write_content(db: &Db) {
    db.create_table(
        TableSpec::new(TABLE)
            .family("obs", &[("temp", ColumnType::F64), ("code", ColumnType::I64)])
            .family("meta", &[("ok", ColumnType::Bool), ("note", ColumnType::String)]),
    )
    .expect("table");
    db.write(
        SeriesWrite::new(TABLE, "s1", vec![1000, 2000, 3000])
            .column("obs", "temp", ColumnValues::F64(vec![1.5, -2.25, 3.0]))
            .column("obs", "code", ColumnValues::I64(vec![1, 2, 3]))
            .column("meta", "ok", ColumnValues::Bool(vec![true, false, true]))
            .column("meta", "note", ColumnValues::String(vec!["a".into(), "b".into(), "c".into()])),
    )
    .expect("write 1");
    db.write(SeriesWrite::new(TABLE, "s2", vec![1500]).column("obs", "temp", ColumnValues::F64(vec![7.0])))
        .expect("write 2");
    db.flush().expect("flush");
    // Only in the WAL: s1 at 2000 overwritten (last write wins), s1 at 4000 and s3 new.
    db.write(SeriesWrite::new(TABLE, "s1", vec![2000, 4000]).column("obs", "temp", ColumnValues::F64(vec![20.0, 4.5])))
        .expect("write 3");
    db.write(
        SeriesWrite::new(TABLE, "s3", vec![1000])
            .column("meta", "note", ColumnValues::String(vec!["late".into()]))
            .column("obs", "code", ColumnValues::I64(vec![-7])),
    )
    .expect("write 4");
}

fn s(x: &str) -> V {
    V::S(x.into())
}

/// Every row of the golden table: series, ts, obs.temp, obs.code, meta.ok, meta.note.
fn expected_rows() -> Vec<Vec<V>> {
    vec![
        vec![s("s1"), V::I(1000), V::f(1.5), V::I(1), V::B(true), s("a")],
        vec![s("s1"), V::I(2000), V::f(20.0), V::I(2), V::B(false), s("b")],
        vec![s("s1"), V::I(3000), V::f(3.0), V::I(3), V::B(true), s("c")],
        vec![s("s1"), V::I(4000), V::f(4.5), V::N, V::N, V::N],
        vec![s("s2"), V::I(1500), V::f(7.0), V::N, V::N, V::N],
        vec![s("s3"), V::I(1000), V::N, V::I(-7), V::N, s("late")],
    ]
}

fn scan(db: &Db) -> Result<Vec<Vec<V>>, Error> {
    let request = ScanRequest::new(TABLE).columns(["obs.temp", "obs.code", "meta.ok", "meta.note"]);
    Ok(rows(&db.scan(&request)?))
}

/// Copies the directory tree `from` into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The one file of `dir` whose name ends with `suffix` (relative to the database directory).
fn only_file(dir: &Path, sub: &str, prefix: &str, suffix: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().to_string();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 1, "exactly one {prefix}*{suffix} in {}: {files:?}", dir.join(sub).display());
    files.remove(0)
}

/// The golden database's files, relative to its directory: (WAL segment, obs SSTable, meta
/// SSTable, manifest). The SSTables are told apart by their family id order (obs first).
fn golden_files(db: &Path) -> [PathBuf; 4] {
    let wal = only_file(db, "wal", "", ".wal");
    let mut ssts: Vec<PathBuf> = std::fs::read_dir(db.join("sst"))
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    ssts.sort();
    assert_eq!(ssts.len(), 2, "one SSTable per family: {ssts:?}");
    let manifest = only_file(db, "", "MANIFEST-", "");
    let rel = |p: &Path| p.strip_prefix(db).expect("inside").to_path_buf();
    [rel(&wal), rel(&ssts[0]), rel(&ssts[1]), rel(&manifest)]
}

/// A fresh copy of the golden database with `file` (relative) replaced by `corrupt/<variant>`.
fn damaged_copy(file: &Path, variant: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&golden_dir().join("db"), dir.path());
    std::fs::copy(golden_dir().join("corrupt").join(variant), dir.path().join(file)).expect("replace");
    dir
}

fn open_copy(dir: &Path) -> Result<Db, Error> {
    Db::open(dir, options())
}

#[test]
fn good_files_read_to_the_exact_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&golden_dir().join("db"), dir.path());
    let db = open_copy(dir.path()).expect("the golden database opens");
    assert_eq!(scan(&db).expect("scan"), expected_rows());

    // The manifest's state: the table definition and one flushed SSTable per family.
    let tables = db.tables();
    assert_eq!(tables.len(), 1);
    let table = &tables[0];
    assert_eq!(table.name, TABLE);
    let families: Vec<(&str, Vec<(&str, ColumnType)>)> = table
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect()))
        .collect();
    assert_eq!(
        families,
        vec![
            ("obs", vec![("temp", ColumnType::F64), ("code", ColumnType::I64)]),
            ("meta", vec![("ok", ColumnType::Bool), ("note", ColumnType::String)]),
        ]
    );
    let stats = db.stats();
    let mut files: Vec<(&str, usize, u64, usize)> =
        stats.families.iter().map(|f| (f.family.as_str(), f.files, f.file_rows, f.bad_files)).collect();
    files.sort();
    // obs: s1 x3 + s2 x1 flushed; meta: s1 x3 (s2 had no meta cell).
    assert_eq!(files, vec![("meta", 1, 3, 0), ("obs", 1, 4, 0)]);
    db.close().expect("close");
}

/// One SSTable through the reader `isobar inspect` uses: its facts, columns and every series' rows
/// as `(series, ts, seq, cells)`.
type SstRows = Vec<(String, Vec<i64>, Vec<u64>, Vec<Vec<V>>)>;

fn read_sst(path: &Path) -> (SstInfo, SstRows) {
    let reader = SstReader::open(path, 0, Arc::new(BlockCache::new(1 << 20))).expect("SSTable opens");
    let info = reader.info().clone();
    let ids: Vec<_> = info.columns.iter().map(|c| c.id).collect();
    let mut out = Vec::new();
    for entry in reader.series(&SeriesSelector::All) {
        let run = reader.read(&entry, TimeRange::ALL, &ids).expect("series reads").expect("series has rows");
        let cells = (0..run.ts.len()).map(|i| run.columns.iter().map(|(_, a)| cell(a.as_ref(), i)).collect()).collect();
        out.push((entry.key.to_string(), run.ts.to_vec(), run.seq.to_vec(), cells));
    }
    (info, out)
}

#[test]
fn sstables_read_through_the_inspect_path_to_their_exact_content() {
    let db = golden_dir().join("db");
    let [_, obs, meta, _] = golden_files(&db);

    let (info, rows) = read_sst(&db.join(obs));
    assert_eq!(info.format_version, 1);
    assert_eq!((info.family, info.rows, info.series, info.pages), (0, 4, 2, 1));
    assert_eq!((info.min_ts, info.max_ts, info.min_seq, info.max_seq), (1000, 3000, 1, 2));
    let columns: Vec<(&str, ColumnType)> = info.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    assert_eq!(columns, vec![("temp", ColumnType::F64), ("code", ColumnType::I64)]);
    assert_eq!(
        rows,
        vec![
            (
                "s1".to_string(),
                vec![1000, 2000, 3000],
                vec![1, 1, 1],
                vec![vec![V::f(1.5), V::I(1)], vec![V::f(-2.25), V::I(2)], vec![V::f(3.0), V::I(3)]]
            ),
            ("s2".to_string(), vec![1500], vec![2], vec![vec![V::f(7.0), V::N]]),
        ]
    );

    let (info, rows) = read_sst(&db.join(meta));
    assert_eq!(info.format_version, 1);
    assert_eq!((info.family, info.rows, info.series, info.pages), (1, 3, 1, 1));
    assert_eq!((info.min_ts, info.max_ts, info.min_seq, info.max_seq), (1000, 3000, 1, 1));
    let columns: Vec<(&str, ColumnType)> = info.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    assert_eq!(columns, vec![("ok", ColumnType::Bool), ("note", ColumnType::String)]);
    assert_eq!(
        rows,
        vec![(
            "s1".to_string(),
            vec![1000, 2000, 3000],
            vec![1, 1, 1],
            vec![vec![V::B(true), s("a")], vec![V::B(false), s("b")], vec![V::B(true), s("c")]]
        )]
    );
}

/// The golden files, relative to the database directory.
struct Files {
    wal: PathBuf,
    obs_sst: PathBuf,
    manifest: PathBuf,
}

fn files() -> Files {
    let [wal, obs_sst, _meta_sst, manifest] = golden_files(&golden_dir().join("db"));
    Files { wal, obs_sst, manifest }
}

/// Opening a copy with `file` replaced by `variant` fails: the error, the copy kept alive so that
/// the paths in the error stay meaningful.
fn open_error(file: &Path, variant: &str) -> (Error, tempfile::TempDir) {
    let dir = damaged_copy(file, variant);
    match open_copy(dir.path()) {
        Ok(db) => panic!("{variant}: opened, then scanned {:?}", scan(&db)),
        Err(e) => (e, dir),
    }
}

/// Asserts that `err`'s Debug form holds every piece of `debug` (variant names and facts) and its
/// message names `file`.
fn assert_reported(err: &Error, debug: &[&str], file: &Path) {
    let text = format!("{err:?}");
    for piece in debug {
        assert!(text.contains(piece), "{piece:?} not in {text}");
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy().to_string();
    assert!(err.to_string().contains(&name), "the message names {name}: {err}");
}

#[test]
fn wal_record_with_a_flipped_checksum_byte_is_corrupt() {
    let f = files();
    let (err, _dir) = open_error(&f.wal, "wal_record_checksum.wal");
    assert!(matches!(err, Error::Wal(_)), "{err:?}");
    assert_reported(&err, &["Wal(Corrupt {", "offset: 32,", "reason: Checksum { what: \"record\""], &f.wal);
}

#[test]
fn wal_segment_with_a_truncated_tail_loses_only_the_torn_write() {
    let f = files();
    let dir = damaged_copy(&f.wal, "wal_truncated_tail.wal");
    let db = open_copy(dir.path()).expect("a torn tail is not an error");
    let mut expected = expected_rows();
    expected.retain(|row| row[0] != s("s3"));
    assert_eq!(scan(&db).expect("scan"), expected, "the last write (s3) is gone, every other row stays");
    db.close().expect("close");
}

#[test]
fn wal_segment_with_a_bad_magic_is_corrupt() {
    let f = files();
    let (err, _dir) = open_error(&f.wal, "wal_bad_magic.wal");
    assert!(matches!(err, Error::Wal(_)), "{err:?}");
    assert_reported(&err, &["Wal(Corrupt {", "offset: 0,", "reason: BadMagic {"], &f.wal);
}

#[test]
fn wal_segment_of_another_version_is_refused() {
    let f = files();
    let (err, _dir) = open_error(&f.wal, "wal_version_2.wal");
    assert!(matches!(err, Error::Wal(_)), "{err:?}");
    // A newer version is not corruption: its own error, under every recovery mode.
    assert_reported(&err, &["Wal(NewerVersion {", "found: 2, supported: 1 }"], &f.wal);
}

#[test]
fn sstable_with_a_flipped_footer_checksum_byte_is_corrupt() {
    let f = files();
    let (err, _dir) = open_error(&f.obs_sst, "sst_footer_checksum.sst");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    // The obs SSTable is 292 bytes: its footer starts at 228.
    assert_reported(&err, &["Sst(Corrupt {", "block: Footer, offset: 228,", "reason: Checksum {"], &f.obs_sst);
}

#[test]
fn sstable_with_a_flipped_data_byte_opens_but_its_block_is_reported_on_scan() {
    let f = files();
    let dir = damaged_copy(&f.obs_sst, "sst_data_byte.sst");
    let db = open_copy(dir.path()).expect("open reads only footer, index, filter and meta");
    let err = scan(&db).expect_err("a corrupt block is never data");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    assert_reported(
        &err,
        &["Sst(Corrupt {", "block: Data { block: 1, page: 0, column: Seq }", "reason: Checksum {"],
        &f.obs_sst,
    );
    db.close().expect("close");
}

#[test]
fn sstable_with_a_truncated_tail_has_no_footer() {
    let f = files();
    let (err, _dir) = open_error(&f.obs_sst, "sst_truncated_tail.sst");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    // 10 bytes cut: the last 64 bytes (from 218) are read as the footer and lack the magic.
    assert_reported(&err, &["Sst(Corrupt {", "block: Footer, offset: 218,", "reason: BadMagic {"], &f.obs_sst);
}

#[test]
fn sstable_with_a_bad_magic_is_corrupt() {
    let f = files();
    let (err, _dir) = open_error(&f.obs_sst, "sst_bad_magic.sst");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    assert_reported(&err, &["Sst(Corrupt {", "block: Footer, offset: 228,", "reason: BadMagic {"], &f.obs_sst);
}

#[test]
fn sstable_of_another_version_is_refused() {
    let f = files();
    let (err, _dir) = open_error(&f.obs_sst, "sst_version_2.sst");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    assert_reported(&err, &["Sst(UnsupportedVersion {", "found: 2, supported: 1"], &f.obs_sst);
}

#[test]
fn manifest_with_a_flipped_header_checksum_byte_is_corrupt() {
    let f = files();
    let (err, _dir) = open_error(&f.manifest, "manifest_header_checksum");
    assert!(matches!(err, Error::Manifest(_)), "{err:?}");
    assert_reported(&err, &["Manifest(Corrupt {", "offset: 0,", "reason: Checksum {"], &f.manifest);
}

#[test]
fn manifest_with_a_truncated_tail_drops_the_torn_edit_and_the_wal_restores_its_rows() {
    let f = files();
    let dir = damaged_copy(&f.manifest, "manifest_truncated_tail");
    let db = open_copy(dir.path()).expect("a torn last manifest record is not an error");
    // The torn record added meta's SSTable: without it, meta's rows come back from the WAL.
    assert_eq!(scan(&db).expect("scan"), expected_rows());
    let stats = db.stats();
    let mut files: Vec<(&str, usize, u64)> =
        stats.families.iter().map(|f| (f.family.as_str(), f.files, f.file_rows)).collect();
    files.sort();
    assert_eq!(files, vec![("meta", 0, 0), ("obs", 1, 4)]);
    db.close().expect("close");
}

#[test]
fn manifest_of_another_version_is_refused() {
    let f = files();
    let (err, _dir) = open_error(&f.manifest, "manifest_version_2");
    assert!(matches!(err, Error::Manifest(_)), "{err:?}");
    assert_reported(&err, &["Manifest(UnsupportedVersion {", "version: 2, supported: 1"], &f.manifest);
}

#[test]
fn current_naming_a_missing_manifest_is_reported() {
    let (err, _dir) = open_error(Path::new("CURRENT"), "current_names_missing_manifest");
    assert!(matches!(err, Error::Manifest(_)), "{err:?}");
    assert_reported(&err, &["Manifest(MissingManifest {", "MANIFEST-999999"], Path::new("CURRENT"));
}

/// Re-makes `tests/golden/v1/` from the current code. Run only on a deliberate format change (and
/// then into a new `v<N>` folder, keeping the old one as long as it must still be read).
#[test]
#[ignore = "re-makes the checked-in golden files; run by hand on a format change"]
fn regenerate_golden_files() {
    let golden = golden_dir();
    let _ = std::fs::remove_dir_all(&golden);
    let work = tempfile::tempdir().expect("tempdir");
    let db = Db::open(work.path(), options()).expect("open");
    write_content(&db);
    // The state a crash right now leaves: copied while the database is open (sync = always, so
    // the two WAL-only writes are on disk).
    copy_tree(work.path(), &golden.join("db"));
    db.close().expect("close");
    // The open database's lock file is no part of the format (and would make the copy look open).
    std::fs::remove_file(golden.join("db/LOCK")).expect("LOCK copied");

    let db_dir = golden.join("db");
    let [wal, obs, _meta, manifest] = golden_files(&db_dir);
    let read = |p: &Path| std::fs::read(db_dir.join(p)).expect("read");
    let corrupt = golden.join("corrupt");
    std::fs::create_dir_all(&corrupt).expect("mkdir");
    let put = |name: &str, bytes: Vec<u8>| std::fs::write(corrupt.join(name), bytes).expect("write");

    // WAL segment: 32-byte header (magic 0..8, version 8..10), then records [len u32][crc u32]...
    let w = read(&wal);
    put("wal_record_checksum.wal", flip(&w, 32 + 4));
    put("wal_truncated_tail.wal", w[..w.len() - 3].to_vec());
    put("wal_bad_magic.wal", flip(&w, 0));
    put("wal_version_2.wal", set_u16(&w, 8, 2));

    // SSTable: 64-byte footer at the end (crc at 48, version at 52, magic at 56).
    let t = read(&obs);
    let footer = t.len() - 64;
    put("sst_footer_checksum.sst", flip(&t, footer + 48));
    put("sst_data_byte.sst", flip(&t, 20));
    put("sst_truncated_tail.sst", t[..t.len() - 10].to_vec());
    put("sst_bad_magic.sst", flip(&t, t.len() - 1));
    put("sst_version_2.sst", set_u16(&t, footer + 52, 2));

    // Manifest: records [len u32][crc32c(payload) u32][payload JSON], the header record first.
    let m = read(&manifest);
    put("manifest_header_checksum", flip(&m, 4));
    put("manifest_truncated_tail", m[..m.len() - 3].to_vec());
    put("manifest_version_2", manifest_with_version(&m, 2));

    put("current_names_missing_manifest", b"MANIFEST-999999\n".to_vec());
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0xFF;
    out
}

fn set_u16(bytes: &[u8], at: usize, value: u16) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + 2].copy_from_slice(&value.to_le_bytes());
    out
}

/// The manifest with its header record's version replaced (and its checksum recomputed, so only
/// the version is wrong).
fn manifest_with_version(bytes: &[u8], version: u32) -> Vec<u8> {
    let len = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    let payload = std::str::from_utf8(&bytes[8..8 + len]).expect("JSON");
    assert!(payload.contains("\"version\":1"), "{payload}");
    let payload = payload.replace("\"version\":1", &format!("\"version\":{version}"));
    let mut out = Vec::new();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload.as_bytes()).to_le_bytes());
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(&bytes[8 + len..]);
    out
}
