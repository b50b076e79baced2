use std::collections::BTreeMap;

use super::*;
use crate::batch::{ColumnValues, SeriesWrite, WriteBatch};
use crate::options::Limits;
use crate::schema::ColumnType;

fn iot() -> TableDef {
    let spec = TableSpec::new("iot")
        .family("readings", &[("velocity", ColumnType::F64), ("note", ColumnType::String)])
        .family("diagnostics", &[("status", ColumnType::I64)]);
    build_table(&spec, 1, 10, &BTreeMap::new()).unwrap()
}

fn tables(defs: &[TableDef]) -> BTreeMap<String, TableDef> {
    defs.iter().map(|t| (t.name.clone(), t.clone())).collect()
}

fn write(ts: Vec<i64>) -> SeriesWrite {
    let n = ts.len();
    SeriesWrite::new("iot", "truck_1", ts).column("readings", "velocity", ColumnValues::F64(vec![1.5; n]))
}

#[test]
fn build_assigns_ids_and_rejects_bad_specs() {
    let t = iot();
    assert_eq!(t.families[0].id, 10);
    assert_eq!(t.families[1].id, 11);
    assert_eq!(t.families[0].columns[1].id, 1);
    let existing: BTreeMap<_, _> = [(1, t.clone())].into();
    assert!(matches!(
        build_table(&TableSpec::new("iot").family("f", &[]), 2, 20, &existing),
        Err(InvalidInput::TableExists { .. })
    ));
    assert!(matches!(build_table(&TableSpec::new("x"), 2, 20, &existing), Err(InvalidInput::Empty(_))));
    let dup = TableSpec::new("x").family("f", &[("a", ColumnType::F64), ("a", ColumnType::I64)]);
    assert!(matches!(build_table(&dup, 2, 20, &existing), Err(InvalidInput::ColumnExists { .. })));
    let bad = TableSpec::new("../x").family("f", &[]);
    assert!(matches!(build_table(&bad, 2, 20, &existing), Err(InvalidInput::InvalidName { .. })));
}

#[test]
fn changes_add_families_columns_and_ttl() {
    let t = iot();
    let t2 =
        apply_change(&t, &TableChange::AddFamily(FamilySpec::new("gps", &[("lat", ColumnType::F64)])), 12).unwrap();
    assert_eq!(t2.family("gps").unwrap().id, 12);
    let add = TableChange::AddColumns {
        family: "readings".into(),
        columns: vec![ColumnSpec { name: "heading".into(), ty: ColumnType::F64 }],
    };
    let t3 = apply_change(&t2, &add, 13).unwrap();
    assert_eq!(t3.family("readings").unwrap().column("heading").unwrap().id, 2);
    assert!(matches!(apply_change(&t3, &add, 13), Err(InvalidInput::ColumnExists { .. })));
    let ttl = TableChange::SetTtl { family: Some("nope".into()), ttl_ns: Some(5) };
    assert!(matches!(apply_change(&t3, &ttl, 13), Err(InvalidInput::UnknownFamily { .. })));
    let neg = TableChange::SetTtl { family: None, ttl_ns: Some(-1) };
    assert!(matches!(apply_change(&t3, &neg, 13), Err(InvalidInput::Impossible(_))));
}

#[test]
fn valid_batch_resolves_to_ids() {
    let w = write(vec![1, 2]).column("diagnostics", "status", ColumnValues::I64(vec![3, 4]));
    let v = validate_batch(&tables(&[iot()]), w.into(), &Limits::default()).unwrap();
    assert_eq!(v.points, 4);
    assert_eq!(v.rows, 2);
    let cols: Vec<_> = v.series[0].columns.iter().map(|c| (c.family, c.column)).collect();
    assert_eq!(cols, [(10, 0), (11, 0)]);
}

#[test]
fn every_bad_input_is_a_typed_error() {
    let t = tables(&[iot()]);
    let l = Limits::default();
    let check = |w: SeriesWrite| validate_batch(&t, w.into(), &l).unwrap_err();
    let mut w = write(vec![1]);
    w.table = "nope".into();
    assert!(matches!(check(w), InvalidInput::UnknownTable { .. }));
    let w = write(vec![1]).column("nope", "x", ColumnValues::F64(vec![1.0]));
    assert!(matches!(check(w), InvalidInput::UnknownFamily { .. }));
    let w = write(vec![1]).column("readings", "nope", ColumnValues::F64(vec![1.0]));
    assert!(matches!(check(w), InvalidInput::UnknownColumn { .. }));
    let w = write(vec![1]).column("diagnostics", "status", ColumnValues::F64(vec![1.0]));
    let e = check(w);
    assert!(matches!(e, InvalidInput::TypeMismatch { expected: ColumnType::I64, got: ColumnType::F64, .. }), "{e}");
    assert!(e.to_string().contains("diagnostics.status"), "{e}");
    let w = write(vec![1, 2]).column("diagnostics", "status", ColumnValues::I64(vec![1]));
    assert!(matches!(check(w), InvalidInput::LengthMismatch { expected: 2, got: 1, .. }));
    let w = write(vec![1]).column("readings", "velocity", ColumnValues::F64(vec![1.0]));
    assert!(matches!(check(w), InvalidInput::DuplicateColumn { .. }));
    let w = write(vec![1, i64::MAX]);
    assert!(matches!(check(w), InvalidInput::TimestampOutOfRange { row: 1, .. }));
    let mut w = write(vec![1]);
    w.series = "k".repeat(l.max_series_key_len + 1);
    assert!(matches!(check(w), InvalidInput::BadSeriesKey { .. }));
    let w = write(vec![1]).column("readings", "note", ColumnValues::String(vec!["x".repeat(l.max_string_len + 1)]));
    assert!(matches!(check(w), InvalidInput::StringTooLong { row: 0, .. }));
    assert!(matches!(check(write(vec![])), InvalidInput::Empty(_)));
    let big = Limits { max_rows_per_batch: 1, ..Limits::default() };
    assert!(matches!(validate_batch(&t, write(vec![1, 2]).into(), &big), Err(InvalidInput::TooManyRows { .. })));
    let w = write(vec![1]).column("readings", "bad-name", ColumnValues::F64(vec![1.0]));
    assert!(matches!(check(w), InvalidInput::InvalidName { .. }));
}

#[test]
fn dynamic_columns_get_ids_and_fixed_types() {
    let mut t = iot();
    t.dynamic_columns = true;
    let t = tables(&[t]);
    let w1 = write(vec![1]).column("readings", "grade", ColumnValues::F64(vec![1.0]));
    let mut w2 = write(vec![2]).column("readings", "grade", ColumnValues::F64(vec![2.0]));
    w2.series = "truck_2".into();
    let batch = WriteBatch { series: vec![w1, w2] };
    let v = validate_batch(&t, batch, &Limits::default()).unwrap();
    assert_eq!(v.changed_tables.len(), 1);
    let grade = v.changed_tables[0].family("readings").unwrap().column("grade").unwrap();
    assert_eq!((grade.id, grade.ty), (2, ColumnType::F64));
    // The same new column with another type in the same batch is a type mismatch.
    let w1 = write(vec![1]).column("readings", "grade", ColumnValues::F64(vec![1.0]));
    let w2 = write(vec![2]).column("readings", "grade", ColumnValues::I64(vec![2]));
    let err = validate_batch(&t, WriteBatch { series: vec![w1, w2] }, &Limits::default()).unwrap_err();
    assert!(matches!(err, InvalidInput::TypeMismatch { .. }));
}

/// `iot` with dynamic columns and one write of `truck_1` adding `n` new F64 columns `c0..`.
fn wide(n: usize) -> (BTreeMap<String, TableDef>, WriteBatch) {
    let mut t = iot();
    t.dynamic_columns = true;
    let mut w = SeriesWrite::new("iot", "truck_1", vec![1]);
    for i in 0..n {
        w = w.column("readings", &format!("c{i}"), ColumnValues::F64(vec![i as f64]));
    }
    (tables(&[t]), w.into())
}

#[test]
fn a_write_adding_many_columns_copies_the_table_definition_once() {
    let (t, batch) = wide(2000);
    let limits = Limits { max_new_columns_per_request: 2000, ..Limits::default() };
    validate::TABLE_COPIES.with(|c| c.set(0));
    let v = validate_batch(&t, batch, &limits).unwrap();
    assert_eq!(validate::TABLE_COPIES.with(|c| c.get()), 1, "one copy per table and request, not one per column");
    assert_eq!(v.changed_tables.len(), 1);
    let readings = v.changed_tables[0].family("readings").unwrap();
    assert_eq!(readings.columns.len(), 2 + 2000);
    assert_eq!(readings.column("c1999").unwrap().id, 2001);
}

#[test]
fn new_columns_per_request_limit_passes_at_the_limit_and_refuses_one_more() {
    let limits = Limits { max_new_columns_per_request: 10, ..Limits::default() };
    let (t, batch) = wide(10);
    assert_eq!(validate_batch(&t, batch, &limits).unwrap().changed_tables.len(), 1);
    let (t, batch) = wide(11);
    let err = validate_batch(&t, batch, &limits).unwrap_err();
    assert!(matches!(err, InvalidInput::TooManyNewColumns { new: 11, max: 10, .. }), "{err:?}");
    assert!(err.to_string().contains("storage.max_new_columns_per_request"), "{err}");
    // The limit counts over the whole request, not per series write.
    let (t, mut batch) = wide(6);
    let mut second = wide(12).1.series.remove(0);
    second.series = "truck_2".into();
    second.columns.drain(..6);
    batch.series.push(second);
    let err = validate_batch(&t, batch, &limits).unwrap_err();
    assert!(matches!(err, InvalidInput::TooManyNewColumns { new: 11, .. }), "{err:?}");
}

#[test]
fn columns_per_table_limit_passes_at_the_limit_and_refuses_one_more() {
    // `iot` has 3 columns; 5 new ones make 8.
    let limits = Limits { max_columns_per_table: 8, ..Limits::default() };
    let (t, batch) = wide(5);
    let v = validate_batch(&t, batch, &limits).unwrap();
    assert_eq!(v.changed_tables[0].families.iter().map(|f| f.columns.len()).sum::<usize>(), 8);
    let (t, batch) = wide(6);
    let err = validate_batch(&t, batch, &limits).unwrap_err();
    assert!(matches!(err, InvalidInput::TooManyColumns { columns: 9, max: 8, .. }), "{err:?}");
    assert!(err.to_string().contains("storage.max_columns_per_table"), "{err}");
    // Writing existing columns of a table already at the limit still works.
    let w = write(vec![1]);
    assert!(validate_batch(&t, w.into(), &Limits { max_columns_per_table: 3, ..Limits::default() }).is_ok());
}
