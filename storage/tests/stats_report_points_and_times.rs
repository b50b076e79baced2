//! `Db::stats` per family: the time span of what the family holds (memtables and files, rows
//! written out of order included) and the points in its files, which explicit nulls do not add to.

use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, SyncPolicy, TableSpec};

fn family(db: &Db) -> isobar_storage::FamilyStats {
    db.stats().families.into_iter().find(|f| f.table == "t" && f.family == "f").expect("family stats")
}

#[test]
fn stats_give_the_time_span_and_the_points_in_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).expect("open");
    db.create_table(TableSpec::new("t").family("f", &[("a", ColumnType::F64), ("b", ColumnType::I64)])).expect("table");
    assert_eq!(family(&db).ts_bounds, None, "an empty family has no span");
    // Out of order, sparse: 3 rows, 5 points.
    let w = SeriesWrite::new("t", "s", vec![30, 10, 20])
        .column("f", "a", ColumnValues::F64(vec![1.0, 2.0, 3.0]))
        .sparse_column("f", "b", ColumnValues::I64(vec![1, 0, 3]), vec![true, false, true]);
    db.write(w).expect("write");
    let before = family(&db);
    assert_eq!((before.ts_bounds, before.file_points), (Some((10, 30)), 0), "memtable only");
    db.flush().expect("flush");
    let after = family(&db);
    assert_eq!((after.ts_bounds, after.file_points, after.file_rows), (Some((10, 30)), 5, 3));
    // An explicit null at a new time widens the span but is not a point.
    let null = SeriesWrite::new("t", "s", vec![40]).column_with_nulls(
        "f",
        "a",
        ColumnValues::F64(vec![0.0]),
        vec![false],
        vec![true],
    );
    db.write(null).expect("null");
    db.flush().expect("flush");
    let last = family(&db);
    assert_eq!((last.ts_bounds, last.file_points, last.file_rows), (Some((10, 40)), 5, 4));
}
