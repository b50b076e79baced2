//! A flush that covers every record of the active WAL segment closes it, so the segment is
//! deleted with the others: after a flush nothing flushed stays in the WAL (it used to keep up to
//! `segment_size` bytes). Writes after that go to a new segment and survive a crash (reopen
//! without close) together with what was flushed.

use isobar_storage::{ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesWrite, SyncPolicy, TableSpec};

/// Bytes of the `.wal` files in the database's WAL directory.
fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("wal"))
        .expect("wal dir")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wal"))
        .map(|e| e.metadata().expect("stat").len())
        .sum()
}

fn write(db: &Db, from: i64, n: i64) {
    let ts: Vec<i64> = (from..from + n).collect();
    let values = ts.iter().map(|t| *t as f64).collect();
    db.write(SeriesWrite::new("t", "s", ts).column("f", "v", ColumnValues::F64(values))).expect("write");
}

fn rows(db: &Db) -> usize {
    db.scan(&ScanRequest::new("t")).expect("scan").iter().map(|b| b.num_rows()).sum()
}

#[test]
fn a_flush_leaves_no_flushed_record_in_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = || Options { sync: SyncPolicy::Always, ..Options::default() };
    let db = Db::open(dir.path(), options()).expect("open");
    db.create_table(TableSpec::new("t").family("f", &[("v", ColumnType::F64)])).expect("table");
    write(&db, 0, 1000);
    assert!(wal_bytes(dir.path()) > 8_000, "the writes are in the WAL");
    db.flush().expect("flush");
    assert_eq!(wal_bytes(dir.path()), 0, "the flushed segment is closed and deleted");
    // New writes start a new segment; a crash (no close) keeps both halves.
    write(&db, 1000, 10);
    assert!(wal_bytes(dir.path()) > 0);
    drop(db);
    let db = Db::open(dir.path(), options()).expect("reopen");
    assert_eq!(rows(&db), 1010, "flushed rows from the file, the rest replayed from the new segment");
    db.flush().expect("flush");
    assert_eq!(wal_bytes(dir.path()), 0);
    write(&db, 2000, 5);
    db.close().expect("close");
    drop(db);
    let db = Db::open(dir.path(), options()).expect("reopen");
    assert_eq!(rows(&db), 1015);
}
