//! Bad input gets a typed error naming what is wrong, and nothing is written: unknown table or
//! family, type mismatch, invalid names, timestamps out of range, oversize keys and strings.

mod common;

use common::{create_tables, f64_write, scan_all};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Error, InvalidInput, Limits, Options, SeriesSelector, SeriesWrite, TableSpec,
    TimeRange, WriteBatch,
};

fn open(dir: &std::path::Path) -> Db {
    let limits = Limits { max_series_key_len: 16, max_string_len: 8, ..Limits::default() };
    let db = Db::open(dir, Options { limits, ..Options::default() }).unwrap();
    create_tables(&db);
    db
}

#[test]
fn every_rejected_write_is_typed_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let good = f64_write("t0", "s", vec![1], "a", "x", vec![1.0]);
    type Check = fn(&InvalidInput) -> bool;
    let cases: Vec<(&str, SeriesWrite, Check)> = vec![
        ("unknown table", f64_write("nope", "s", vec![1], "a", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::UnknownTable { .. })
        }),
        ("unknown family", f64_write("t0", "s", vec![1], "zz", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::UnknownFamily { .. })
        }),
        ("unknown column", f64_write("t0", "s", vec![1], "a", "nope", vec![1.0]), |e| {
            matches!(e, InvalidInput::UnknownColumn { .. })
        }),
        ("type mismatch", SeriesWrite::new("t0", "s", vec![1]).column("a", "y", ColumnValues::F64(vec![1.0])), |e| {
            matches!(e, InvalidInput::TypeMismatch { expected: ColumnType::I64, got: ColumnType::F64, .. })
        }),
        ("invalid name", f64_write("t0", "s", vec![1], "../a", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::InvalidName { .. })
        }),
        ("ts out of range", f64_write("t0", "s", vec![i64::MAX], "a", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::TimestampOutOfRange { row: 0, .. })
        }),
        ("oversize key", f64_write("t0", &"k".repeat(17), vec![1], "a", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::BadSeriesKey { len: 17, max: 16, .. })
        }),
        (
            "oversize string",
            SeriesWrite::new("t0", "s", vec![1]).column("b", "w", ColumnValues::String(vec!["123456789".into()])),
            |e| matches!(e, InvalidInput::StringTooLong { len: 9, max: 8, .. }),
        ),
        ("length mismatch", f64_write("t0", "s", vec![1, 2], "a", "x", vec![1.0]), |e| {
            matches!(e, InvalidInput::LengthMismatch { expected: 2, got: 1, .. })
        }),
    ];
    for (what, bad, check) in cases {
        // The bad write rides in one batch with a good one: the whole batch is refused.
        let batch = WriteBatch { series: vec![good.clone(), bad] };
        match db.write(batch) {
            Err(Error::Invalid(e)) => {
                assert!(check(&e), "{what}: unexpected error {e:?}");
                assert!(!e.to_string().is_empty());
            }
            other => panic!("{what}: expected an invalid-input error, got {other:?}"),
        }
    }
    assert!(scan_all(&db, "t0", &SeriesSelector::All, TimeRange::ALL).is_empty(), "nothing was written");
    assert_eq!(db.stats().writes, 0);
    db.close().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(scan_all(&db, "t0", &SeriesSelector::All, TimeRange::ALL).is_empty(), "nothing reached the WAL");
}

#[test]
fn bad_schema_changes_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let err = db.create_table(TableSpec::new("t0").family("a", &[("x", ColumnType::F64)])).unwrap_err();
    assert!(matches!(err, Error::Invalid(InvalidInput::TableExists { .. })), "{err:?}");
    for name in ["../evil", "a/b", "nul\0", &"x".repeat(200)] {
        let err = db.create_table(TableSpec::new(name).family("a", &[])).unwrap_err();
        assert!(matches!(err, Error::Invalid(InvalidInput::InvalidName { .. })), "{name:?}: {err:?}");
    }
    let err = db.create_table(TableSpec::new("ok").family("../f", &[])).unwrap_err();
    assert!(matches!(err, Error::Invalid(InvalidInput::InvalidName { .. })));
    assert_eq!(db.tables().len(), 2, "only the two tables of the fixture exist");
    let err = db.delete("t0", None, SeriesSelector::All, TimeRange::new(5, 5)).unwrap_err();
    assert!(matches!(err, Error::Invalid(InvalidInput::Impossible(_))));
    assert!(matches!(db.drop_table("nope"), Err(Error::Invalid(InvalidInput::UnknownTable { .. }))));
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(entries.iter().all(|n| !n.to_string_lossy().contains("evil")), "no path was made from a name");
}
