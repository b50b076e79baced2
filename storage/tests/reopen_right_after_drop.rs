//! Dropping the last handle closes the database on the dropping thread, after the background
//! workers have stopped, so the directory can be reopened at once. Before, a flush worker that
//! still held the engine for a moment after answering `flush` could end up dropping it last: it
//! then tried to join its own thread (a panic on that thread) and the reopen found the directory
//! `Locked` (a race: `flush_table_flushes_only_that_table` hit it once in a full run; this loop
//! gives it forty chances).

mod common;

use common::{f64_write, scan_all};
use isobar_storage::{ColumnType, Db, Options, SeriesSelector, TableSpec, TimeRange, WriteBatch};

#[test]
fn a_dropped_database_reopens_at_once_even_right_after_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    db.create_table(TableSpec::new("t").family("f", &[("x", ColumnType::F64)])).unwrap();
    drop(db);
    for round in 0..40i64 {
        let db = Db::open(dir.path(), Options::default()).unwrap_or_else(|e| panic!("reopen in round {round}: {e}"));
        let ts = vec![round * 2, round * 2 + 1];
        db.write(WriteBatch { series: vec![f64_write("t", "s", ts, "f", "x", vec![1.0, 2.0])] }).unwrap();
        db.flush().unwrap();
        drop(db);
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL).len(), 80, "every round's rows");
}
