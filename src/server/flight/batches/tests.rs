use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use isobar_storage::{ColumnDef, ColumnType, ColumnValues, FamilyDef, TableDef};

use super::*;

fn def() -> TableDef {
    TableDef {
        id: 1,
        name: "iot".into(),
        families: vec![FamilyDef {
            id: 0,
            name: "readings".into(),
            columns: vec![ColumnDef { id: 0, name: "velocity".into(), ty: ColumnType::F64 }],
            ttl_ns: None,
        }],
        dynamic_columns: true,
        ttl_ns: None,
    }
}

fn family() -> Target {
    Target::Family { table: "iot".into(), family: "readings".into() }
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

#[test]
fn rows_are_grouped_per_series_with_timestamps_in_nanoseconds_and_declared_types() {
    let input = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a", "a", "b", "a"])) as ArrayRef),
        ("ts", Arc::new(TimestampMillisecondArray::from(vec![1, 2, 3, 4])) as ArrayRef),
        // Int64 into the declared f64 column; a new bool column keeps its Arrow type's mapping.
        ("velocity", Arc::new(Int64Array::from(vec![10, 20, 30, 40])) as ArrayRef),
        ("ok", Arc::new(BooleanArray::from(vec![true, false, true, true])) as ArrayRef),
    ]);
    let out = to_write_batch(&family(), &def(), &[input]).expect("converts");
    assert_eq!(out.series.len(), 2);
    let a = &out.series[0];
    assert_eq!((a.table.as_str(), a.series.as_str()), ("iot", "a"));
    assert_eq!(a.ts, vec![1_000_000, 2_000_000, 4_000_000]);
    assert_eq!(a.columns[0].family, "readings");
    assert_eq!(a.columns[0].values, ColumnValues::F64(vec![10.0, 20.0, 40.0]));
    assert_eq!(a.columns[1].values, ColumnValues::Bool(vec![true, false, true]));
    assert_eq!(out.series[1].ts, vec![3_000_000]);
    assert_eq!(out.points(), 8);
}

#[test]
fn nulls_are_absent_cells_across_batches_and_series_in_the_table_relation() {
    let target = Target::Table { table: "iot".into() };
    let first = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ("readings.velocity", Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0)])) as ArrayRef),
    ]);
    let second = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![3])) as ArrayRef),
        ("readings.velocity", Arc::new(Float64Array::from(vec![None])) as ArrayRef),
    ]);
    let out = to_write_batch(&target, &def(), &[first, second]).expect("converts");
    let a = &out.series[0];
    assert_eq!(a.ts, vec![1, 3]);
    assert_eq!(a.columns[0].validity, Some(vec![true, false]));
    assert_eq!(out.series[1].columns[0].validity, None);
    assert_eq!(out.points(), 2);
}

#[test]
fn bad_input_is_refused_naming_the_column_or_row() {
    let no_ts = batch(vec![("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef)]);
    let err = to_write_batch(&family(), &def(), &[no_ts]).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumn { column: "ts" }), "{err}");

    let ok = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
    ]);
    let null_series = batch(vec![
        ("series", Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
    ]);
    let err = to_write_batch(&family(), &def(), &[ok, null_series]).unwrap_err();
    assert!(matches!(err, IngestError::NullKey { column: "series", row: 2 }), "{err}");

    let undotted = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("velocity", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ]);
    let err = to_write_batch(&Target::Table { table: "iot".into() }, &def(), &[undotted]).unwrap_err();
    assert!(err.to_string().contains("family.column"), "{err}");

    let text_velocity = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("ts", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("velocity", Arc::new(StringArray::from(vec!["fast"])) as ArrayRef),
    ]);
    let err = to_write_batch(&family(), &def(), &[text_velocity]).unwrap_err();
    assert!(err.to_string().contains("readings.velocity") && err.to_string().contains("Float64"), "{err}");

    let float_ts = batch(vec![
        ("series", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("ts", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ]);
    let err = to_write_batch(&family(), &def(), &[float_ts]).unwrap_err();
    assert!(err.to_string().contains("timestamp"), "{err}");
}

#[test]
fn a_batch_decoded_from_flight_data_is_admitted_at_its_own_size_not_once_per_column() {
    let rows = 10_000;
    let mut columns: Vec<(String, ArrayRef)> = vec![
        ("series".into(), Arc::new(StringArray::from(vec!["truck_1"; rows])) as ArrayRef),
        ("ts".into(), Arc::new(Int64Array::from_iter_values(0..rows as i64)) as ArrayRef),
    ];
    for c in 0..10 {
        columns.push((format!("c{c}"), Arc::new(Float64Array::from_iter_values((0..rows).map(|r| r as f64)))));
    }
    let sent = RecordBatch::try_from_iter(columns).expect("batch");
    let data = arrow_flight::utils::batches_to_flight_data(&sent.schema(), vec![sent.clone()]).expect("encode");
    let received = arrow_flight::utils::flight_data_to_batches(&data).expect("decode").remove(0);
    // 11 fixed-width columns of 8 bytes a row, 7 bytes of string and a 4-byte offset a row.
    let payload = rows * (11 * 8 + 7 + 4);
    let admitted = admitted_bytes(&received);
    assert!(admitted >= payload, "{admitted} bytes admitted for a {payload}-byte payload");
    assert!(admitted < 2 * payload, "{admitted} bytes admitted for a {payload}-byte payload");
    assert_eq!(received.num_rows(), rows);
}
