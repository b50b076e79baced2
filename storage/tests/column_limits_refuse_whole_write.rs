//! Column limits: a write that would add too many columns to a table, or too many new columns in
//! one request, is refused whole with a typed error naming the limit, and changes nothing; a
//! write to another table goes through meanwhile.

mod common;

use common::{f64_write, scan_all};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Error, InvalidInput, Limits, Options, SeriesSelector, SeriesWrite, TableSpec,
    TimeRange, WriteBatch,
};

fn open(dir: &std::path::Path, limits: Limits) -> Db {
    let db = Db::open(dir, Options { limits, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("wide").family("f", &[("a", ColumnType::F64)]).dynamic_columns(true)).unwrap();
    db.create_table(TableSpec::new("other").family("f", &[("a", ColumnType::F64)])).unwrap();
    db
}

/// One row of series `s` in `wide` with new columns `c{from}..c{to}`.
fn new_columns(from: usize, to: usize) -> SeriesWrite {
    (from..to).fold(SeriesWrite::new("wide", "s", vec![1]), |w, i| {
        w.column("f", &format!("c{i}"), ColumnValues::F64(vec![i as f64]))
    })
}

fn columns_of(db: &Db, table: &str) -> usize {
    db.table_def(table).unwrap().families.iter().map(|f| f.columns.len()).sum()
}

#[test]
fn new_columns_per_request_over_the_limit_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Limits { max_new_columns_per_request: 10, ..Limits::default() });
    let good = f64_write("other", "s", vec![1], "f", "a", vec![1.0]);
    let err = db.write(WriteBatch { series: vec![good.clone(), new_columns(0, 11)] }).unwrap_err();
    match err {
        Error::Invalid(e @ InvalidInput::TooManyNewColumns { new: 11, max: 10, .. }) => {
            assert!(e.to_string().contains("max_new_columns_per_request"), "{e}");
        }
        other => panic!("expected TooManyNewColumns, got {other:?}"),
    }
    assert_eq!(columns_of(&db, "wide"), 1, "no column was added");
    assert!(scan_all(&db, "other", &SeriesSelector::All, TimeRange::ALL).is_empty(), "nothing was written");
    assert_eq!(db.stats().writes, 0);
    db.write(WriteBatch { series: vec![good, new_columns(0, 10)] }).unwrap();
    assert_eq!(columns_of(&db, "wide"), 11, "the limit itself passes");
    db.close().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(columns_of(&db, "wide"), 11);
}

#[test]
fn columns_per_table_over_the_limit_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Limits { max_columns_per_table: 8, ..Limits::default() });
    db.write(new_columns(0, 7)).unwrap();
    assert_eq!(columns_of(&db, "wide"), 8, "the limit itself passes");
    let err = db.write(new_columns(7, 8)).unwrap_err();
    match err {
        Error::Invalid(e @ InvalidInput::TooManyColumns { columns: 9, max: 8, .. }) => {
            assert!(e.to_string().contains("max_columns_per_table"), "{e}");
        }
        other => panic!("expected TooManyColumns, got {other:?}"),
    }
    assert_eq!(columns_of(&db, "wide"), 8);
    assert_eq!(db.stats().writes, 1, "only the first write was applied");
}

#[test]
fn a_huge_column_write_is_refused_while_another_table_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Limits::default());
    let huge = new_columns(0, 100_000);
    std::thread::scope(|s| {
        let wide = s.spawn(|| db.write(huge));
        let other = s.spawn(|| {
            (0..20).map(|i| db.write(f64_write("other", "s", vec![i], "f", "a", vec![1.0]))).collect::<Vec<_>>()
        });
        let err = wide.join().unwrap().unwrap_err();
        assert!(matches!(err, Error::Invalid(InvalidInput::TooManyNewColumns { max: 1024, .. })), "{err:?}");
        for r in other.join().unwrap() {
            r.unwrap();
        }
    });
    assert_eq!(columns_of(&db, "wide"), 1);
    assert_eq!(scan_all(&db, "other", &SeriesSelector::All, TimeRange::ALL).len(), 20);
}
