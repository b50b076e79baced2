//! `Db::flush_table` flushes the memtables of the table it names and leaves every other table's
//! rows in memory (and in the WAL): managing one table does not make every table write files.
//! Both tables' rows read back, and after a reopen too (the WAL still holds the unflushed ones).

mod common;

use common::{f64_write, scan_all};
use isobar_storage::{ColumnType, Db, Error, InvalidInput, Options, SeriesSelector, TableSpec, TimeRange, WriteBatch};

fn files_and_memtable(db: &Db, table: &str) -> (usize, usize) {
    let stats = db.stats();
    let families = stats.families.iter().filter(|f| f.table == table);
    families.fold((0, 0), |(files, mem), f| (files + f.files, mem + f.memtable_bytes))
}

#[test]
fn flushing_one_table_leaves_the_others_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    for table in ["a", "b"] {
        db.create_table(TableSpec::new(table).family("f", &[("x", ColumnType::F64)])).unwrap();
    }
    let rows = |table: &str| f64_write(table, "s", vec![1, 2, 3], "f", "x", vec![1.0, 2.0, 3.0]);
    db.write(WriteBatch { series: vec![rows("a"), rows("b")] }).unwrap();

    db.flush_table("a").unwrap();
    let (a_files, a_mem) = files_and_memtable(&db, "a");
    let (b_files, b_mem) = files_and_memtable(&db, "b");
    assert!(a_files >= 1 && a_mem == 0, "a is flushed: {a_files} files, {a_mem} bytes in memory");
    assert!(b_files == 0 && b_mem > 0, "b is not: {b_files} files, {b_mem} bytes in memory");
    assert_eq!(scan_all(&db, "a", &SeriesSelector::All, TimeRange::ALL).len(), 3);
    assert_eq!(scan_all(&db, "b", &SeriesSelector::All, TimeRange::ALL).len(), 3);

    let err = db.flush_table("nope").unwrap_err();
    assert!(matches!(err, Error::Invalid(InvalidInput::UnknownTable { .. })), "{err}");

    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(scan_all(&db, "b", &SeriesSelector::All, TimeRange::ALL).len(), 3, "b's rows come back from the WAL");
    assert_eq!(scan_all(&db, "a", &SeriesSelector::All, TimeRange::ALL).len(), 3);
    db.flush().unwrap();
    assert!(files_and_memtable(&db, "b").0 >= 1, "a whole flush flushes b");
}
