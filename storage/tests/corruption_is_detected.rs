//! A torn WAL tail is truncated with the earlier writes kept; a flipped byte in an SSTable block is
//! reported with the file's name, never returned as data and never a panic.

mod common;

use std::io::{Seek, SeekFrom, Write};

use common::{create_tables, f64_write, scan_all};
use isobar_storage::{Db, Error, Options, ScanRequest, SeriesSelector, SyncPolicy, TimeRange};

fn options() -> Options {
    Options { sync: SyncPolicy::Always, ..Options::default() }
}

fn newest_file(dir: &std::path::Path, ext: &str) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files.pop().expect("a file")
}

#[test]
fn torn_wal_tail_is_truncated_and_earlier_writes_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), options()).unwrap();
        create_tables(&db);
        for i in 0..10 {
            db.write(f64_write("t1", "s", vec![i], "a", "x", vec![i as f64])).unwrap();
        }
        db.close().unwrap();
    }
    let segment = newest_file(&dir.path().join("wal"), "wal");
    let len = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(len - 3).unwrap();
    let db = Db::open(dir.path(), options()).expect("a torn tail is not an error");
    let rows = scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL);
    assert_eq!(rows.len(), 9, "the torn last write is gone, the nine before it stay");
    // The log goes on after the truncated tail.
    db.write(f64_write("t1", "s", vec![100], "a", "x", vec![1.0])).unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL).len(), 10);
}

#[test]
fn flipped_byte_in_an_sstable_block_is_reported_by_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), Options { rows_per_page: 256, ..options() }).unwrap();
        create_tables(&db);
        let ts: Vec<i64> = (0..2000).collect();
        let values: Vec<f64> = ts.iter().map(|t| *t as f64 * 0.5).collect();
        db.write(f64_write("t1", "s", ts, "a", "x", values)).unwrap();
        db.flush().unwrap();
        db.close().unwrap();
    }
    let sst = newest_file(&dir.path().join("sst"), "sst");
    let mut f = std::fs::OpenOptions::new().write(true).read(true).open(&sst).unwrap();
    f.seek(SeekFrom::Start(20)).unwrap();
    f.write_all(&[0xA5]).unwrap();
    drop(f);
    let opts = Options { rows_per_page: 256, ..options() };
    let db = Db::open(dir.path(), opts).expect("open reads only footer and index");
    let err = db.scan(&ScanRequest::new("t1")).expect_err("a corrupt block is never data");
    assert!(matches!(err, Error::Sst(_)), "{err:?}");
    let msg = err.to_string();
    let name = sst.file_name().unwrap().to_string_lossy().to_string();
    assert!(msg.contains(&name), "error names the file: {msg}");
    assert!(msg.contains("block"), "error names the block: {msg}");
    assert_eq!(db.stats().families.iter().map(|f| f.bad_files).sum::<usize>(), 1, "the file is marked bad");
    // Reads of other data go on: the last page of the same file is intact.
    let tail = scan_all(&db, "t1", &SeriesSelector::All, TimeRange::new(1990, 2000));
    assert_eq!(tail.len(), 10);
    // Compaction leaves the bad file alone instead of failing or copying the damage.
    let report = db.compact("t1", None, None).unwrap();
    assert_eq!(report.merges, 0);
}
