//! Tests of the request <-> batch conversions: one per malformed shape, and exact results for
//! valid columnar, row and mixed requests.

use isobar_proto::v1::{
    BoolValues, Cell, Column, DoubleValues, Int64Values, Row, SeriesBatch, StringValues, WriteRequest, cell,
    column::Values,
};
use isobar_storage::{ColumnType, ColumnValues, SeriesWrite, WriteBatch};

use super::*;

const MAX: usize = 1000;

fn col(family: &str, name: &str, values: Values, validity: Vec<u8>) -> Column {
    Column { family: family.into(), name: name.into(), values: Some(values), validity, nulls: Vec::new() }
}

fn f64s(v: &[f64]) -> Values {
    Values::F64Values(DoubleValues { values: v.to_vec() })
}

fn batch(table: &str, series: &str, ts: &[i64], columns: Vec<Column>) -> SeriesBatch {
    SeriesBatch { table: table.into(), series: series.into(), ts: ts.to_vec(), columns }
}

fn columnar(batches: Vec<SeriesBatch>) -> WriteRequest {
    WriteRequest { batches, ..Default::default() }
}

fn cell(family: &str, column: &str, value: cell::Value) -> Cell {
    Cell { family: family.into(), column: column.into(), value: Some(value), null: false }
}

fn row(table: &str, series: &str, ts: i64, cells: Vec<Cell>) -> Row {
    Row { table: table.into(), series: series.into(), ts, cells }
}

fn rows(rows: Vec<Row>) -> WriteRequest {
    WriteRequest { rows, ..Default::default() }
}

fn at(batch: usize, table: &str, series: &str, family: &str, column: &str) -> Box<ColumnAt> {
    ColumnAt::new(batch, table, series, family, column)
}

fn cell_at(row: usize, table: &str, series: &str, family: &str, column: &str) -> Box<CellAt> {
    CellAt::new(row, table, series, family, column)
}

#[test]
fn valid_columnar_request_converts_exactly() {
    let request = columnar(vec![
        batch(
            "trucks",
            "truck_1",
            &[30, 10, 20],
            vec![
                col("gps", "lat", f64s(&[1.0, 2.0, 3.0]), Vec::new()),
                col("gps", "speed", Values::I64Values(Int64Values { values: vec![5, 0, -7] }), vec![0b101]),
                col("diag", "ok", Values::BoolValues(BoolValues { values: vec![true, false, true] }), vec![0b111]),
            ],
        ),
        batch(
            "trucks",
            "truck_2",
            &[1],
            vec![col("diag", "msg", Values::StringValues(StringValues { values: vec!["hi".into()] }), Vec::new())],
        ),
    ]);
    let got = request_to_batch(request, MAX).expect("valid");
    let mut want = WriteBatch::new();
    want.push(
        SeriesWrite::new("trucks", "truck_1", vec![30, 10, 20])
            .column("gps", "lat", ColumnValues::F64(vec![1.0, 2.0, 3.0]))
            .sparse_column("gps", "speed", ColumnValues::I64(vec![5, 0, -7]), vec![true, false, true])
            .column("diag", "ok", ColumnValues::Bool(vec![true, false, true])),
    );
    want.push(SeriesWrite::new("trucks", "truck_2", vec![1]).column(
        "diag",
        "msg",
        ColumnValues::String(vec!["hi".into()]),
    ));
    assert_eq!(got, want);
    assert_eq!(got.points(), 3 + 2 + 3 + 1);
}

#[test]
fn valid_row_request_groups_by_table_and_series() {
    use cell::Value::{F64Value, I64Value, StringValue};
    let request = rows(vec![
        row("w", "KSEA", 10, vec![cell("env", "temp", F64Value(1.5)), cell("env", "hum", I64Value(80))]),
        row("w", "KBFI", 10, vec![cell("env", "temp", F64Value(2.5))]),
        row("w", "KSEA", 20, vec![cell("env", "temp", F64Value(1.75))]),
        row("w", "KSEA", 30, vec![cell("meta", "note", StringValue("gust".into()))]),
        row("x", "KSEA", 5, vec![]),
    ]);
    let got = request_to_batch(request, MAX).expect("valid");
    let want = WriteBatch {
        series: vec![
            SeriesWrite::new("w", "KSEA", vec![10, 20, 30])
                .sparse_column("env", "temp", ColumnValues::F64(vec![1.5, 1.75, 0.0]), vec![true, true, false])
                .sparse_column("env", "hum", ColumnValues::I64(vec![80, 0, 0]), vec![true, false, false])
                .sparse_column(
                    "meta",
                    "note",
                    ColumnValues::String(vec![String::new(), String::new(), "gust".into()]),
                    vec![false, false, true],
                ),
            SeriesWrite::new("w", "KBFI", vec![10]).column("env", "temp", ColumnValues::F64(vec![2.5])),
            SeriesWrite::new("x", "KSEA", vec![5]),
        ],
    };
    assert_eq!(got, want);
}

#[test]
fn mixed_request_puts_batches_before_rows_and_drops_empty_batches() {
    let request = WriteRequest {
        batches: vec![
            batch("t", "empty", &[], vec![col("f", "c", f64s(&[]), Vec::new())]),
            batch("t", "a", &[1], vec![col("f", "c", f64s(&[9.0]), Vec::new())]),
        ],
        rows: vec![row("t", "a", 2, vec![cell("f", "c", cell::Value::F64Value(8.0))])],
        ..Default::default()
    };
    let got = request_to_batch(request, MAX).expect("valid");
    let want = WriteBatch {
        series: vec![
            SeriesWrite::new("t", "a", vec![1]).column("f", "c", ColumnValues::F64(vec![9.0])),
            SeriesWrite::new("t", "a", vec![2]).column("f", "c", ColumnValues::F64(vec![8.0])),
        ],
    };
    assert_eq!(got, want);
}

#[test]
fn empty_request_is_refused() {
    assert_eq!(request_to_batch(WriteRequest::default(), MAX), Err(ConvertError::EmptyRequest));
    let only_empty = columnar(vec![batch("t", "s", &[], vec![])]);
    assert_eq!(request_to_batch(only_empty, MAX), Err(ConvertError::EmptyRequest));
}

#[test]
fn too_many_rows_counts_timestamps_and_rows() {
    let request = WriteRequest {
        batches: vec![batch("t", "s", &[1, 2, 3], vec![])],
        rows: vec![row("t", "s", 4, vec![]), row("t", "s", 5, vec![])],
        ..Default::default()
    };
    assert_eq!(request_to_batch(request.clone(), 4), Err(ConvertError::TooManyRows { rows: 5, max: 4 }));
    assert!(request_to_batch(request, 5).is_ok());
}

#[test]
fn values_of_another_length_than_ts_name_the_column() {
    let request = columnar(vec![
        batch("t", "ok", &[1], vec![col("f", "c", f64s(&[1.0]), Vec::new())]),
        batch("t", "bad", &[1, 2], vec![col("f", "c", f64s(&[1.0]), Vec::new())]),
    ]);
    let err = request_to_batch(request, MAX).unwrap_err();
    assert_eq!(err, ConvertError::ValuesLength { at: at(1, "t", "bad", "f", "c"), expected: 2, got: 1 });
    assert_eq!(
        err.to_string(),
        "batches[1] (table \"t\", series \"bad\"): column f.c has 1 values but the batch has 2 timestamps"
    );
}

#[test]
fn validity_of_the_wrong_byte_length_is_refused() {
    let values = f64s(&[1.0; 9]);
    let request = columnar(vec![batch("t", "s", &[0; 9], vec![col("f", "c", values, vec![0xff])])]);
    assert_eq!(
        request_to_batch(request, MAX),
        Err(ConvertError::ValidityLength { at: at(0, "t", "s", "f", "c"), rows: 9, expected: 2, got: 1 })
    );
}

#[test]
fn validity_bits_past_the_last_row_are_refused() {
    let request = columnar(vec![batch("t", "s", &[0; 3], vec![col("f", "c", f64s(&[1.0; 3]), vec![0b1001])])]);
    assert_eq!(
        request_to_batch(request, MAX),
        Err(ConvertError::ValidityPadding { at: at(0, "t", "s", "f", "c"), row: 3, rows: 3 })
    );
}

#[test]
fn column_without_values_is_refused() {
    let column = Column { family: "f".into(), name: "c".into(), values: None, validity: Vec::new(), nulls: Vec::new() };
    let request = columnar(vec![batch("t", "s", &[1], vec![column])]);
    assert_eq!(request_to_batch(request, MAX), Err(ConvertError::MissingValues { at: at(0, "t", "s", "f", "c") }));
}

#[test]
fn cell_without_value_is_refused() {
    let empty = Cell { family: "f".into(), column: "c".into(), value: None, null: false };
    let request = rows(vec![row("t", "a", 1, vec![]), row("t", "b", 2, vec![empty])]);
    assert_eq!(
        request_to_batch(request, MAX),
        Err(ConvertError::MissingCellValue { at: cell_at(1, "t", "b", "f", "c") })
    );
}

#[test]
fn null_cells_become_explicit_nulls_and_a_null_with_a_value_is_refused() {
    let null = |column: &str| Cell { family: "f".into(), column: column.into(), value: None, null: true };
    // Row 1 sets c to null after row 0 gave it a value; d has only a null (no type: f64 slots).
    let request = rows(vec![
        row("t", "a", 1, vec![cell("f", "c", cell::Value::I64Value(7))]),
        row("t", "a", 2, vec![null("c"), null("d")]),
    ]);
    let batch = request_to_batch(request, MAX).expect("valid");
    let w = &batch.series[0];
    let c = &w.columns[0];
    assert_eq!(
        (c.values.clone(), c.validity.clone(), c.nulls.clone()),
        (ColumnValues::I64(vec![7, 0]), Some(vec![true, false]), Some(vec![false, true]))
    );
    let d = &w.columns[1];
    assert_eq!(
        (d.values.clone(), d.validity.clone(), d.nulls.clone()),
        (ColumnValues::F64(vec![0.0, 0.0]), Some(vec![false, false]), Some(vec![false, true]))
    );
    let both = Cell { family: "f".into(), column: "c".into(), value: Some(cell::Value::F64Value(1.0)), null: true };
    assert_eq!(
        request_to_batch(rows(vec![row("t", "a", 1, vec![both])]), MAX),
        Err(ConvertError::NullWithValue { at: cell_at(0, "t", "a", "f", "c") })
    );
}

#[test]
fn the_same_cell_twice_in_a_row_is_refused() {
    let value = cell::Value::BoolValue(true);
    let request = rows(vec![row("t", "s", 1, vec![cell("f", "c", value.clone()), cell("f", "c", value)])]);
    assert_eq!(request_to_batch(request, MAX), Err(ConvertError::DuplicateCell { at: cell_at(0, "t", "s", "f", "c") }));
}

#[test]
fn a_column_changing_type_within_a_series_is_refused() {
    let request = rows(vec![
        row("t", "s", 1, vec![cell("f", "c", cell::Value::I64Value(1))]),
        row("t", "other", 1, vec![cell("f", "c", cell::Value::StringValue("x".into()))]),
        row("t", "s", 2, vec![cell("f", "c", cell::Value::F64Value(1.0))]),
    ]);
    assert_eq!(
        request_to_batch(request, MAX),
        Err(ConvertError::CellTypeConflict {
            at: cell_at(2, "t", "s", "f", "c"),
            expected: ColumnType::I64,
            got: ColumnType::F64,
        })
    );
}

#[test]
fn names_in_errors_are_escaped_and_shortened() {
    let long = "k".repeat(300);
    let column =
        Column { family: "f\n".into(), name: "c".into(), values: None, validity: Vec::new(), nulls: Vec::new() };
    let request = columnar(vec![batch("t", &long, &[1], vec![column])]);
    let message = request_to_batch(request, MAX).unwrap_err().to_string();
    assert!(message.contains("column f\\n.c"), "{message}");
    assert!(message.contains(&format!("{}...", "k".repeat(128))), "{message}");
    assert!(!message.contains(&"k".repeat(129)), "{message}");
}

#[test]
fn batch_to_request_round_trips() {
    let batch = WriteBatch {
        series: vec![
            SeriesWrite::new("t", "a", vec![3, 1, 2])
                .sparse_column("f", "x", ColumnValues::F64(vec![1.0, 0.0, 2.0]), vec![true, false, true])
                .column("f", "s", ColumnValues::String(vec!["a".into(), "b".into(), "c".into()])),
            SeriesWrite::new("u", "b", (0..20).collect()).sparse_column(
                "g",
                "y",
                ColumnValues::Bool(vec![true; 20]),
                (0..20).map(|i| i != 17).collect(),
            ),
        ],
    };
    let request = batch_to_request(batch.clone());
    assert_eq!(request.batches[1].columns[0].validity, vec![0xff, 0xff, 0b1101]);
    assert_eq!(request_to_batch(request, MAX), Ok(batch));
}

#[test]
fn ts_unit_scales_every_timestamp_and_refuses_overflow() {
    let mut request = columnar(vec![batch("t", "s", &[567_993_600], vec![col("f", "x", f64s(&[1.0]), Vec::new())])]);
    request.rows = vec![row("t", "r", 567_993_601, vec![cell("f", "x", cell::Value::F64Value(2.0))])];
    request.ts_unit = TsUnit::Seconds as i32;
    let converted = request_to_batch(request.clone(), MAX).expect("valid");
    let ts: Vec<i64> = converted.series.iter().flat_map(|s| s.ts.clone()).collect();
    assert_eq!(ts, [567_993_600_000_000_000, 567_993_601_000_000_000]);
    request.ts_unit = TsUnit::Milliseconds as i32;
    let ts: Vec<i64> =
        request_to_batch(request.clone(), MAX).expect("valid").series.iter().flat_map(|s| s.ts.clone()).collect();
    assert_eq!(ts, [567_993_600_000_000, 567_993_601_000_000]);
    // Unset and explicit nanoseconds leave the timestamps as sent.
    for unit in [TsUnit::Unspecified, TsUnit::Nanoseconds] {
        request.ts_unit = unit as i32;
        let ts: Vec<i64> =
            request_to_batch(request.clone(), MAX).expect("valid").series.iter().flat_map(|s| s.ts.clone()).collect();
        assert_eq!(ts, [567_993_600, 567_993_601]);
    }
    request.ts_unit = 9;
    assert_eq!(request_to_batch(request.clone(), MAX), Err(ConvertError::UnknownTsUnit { value: 9 }));
    let mut far = columnar(vec![batch("t", "s", &[i64::MAX / 10], vec![col("f", "x", f64s(&[1.0]), Vec::new())])]);
    far.ts_unit = TsUnit::Seconds as i32;
    let err = request_to_batch(far, MAX).expect_err("overflow");
    assert!(matches!(err, ConvertError::TsOutOfRange { unit: "seconds", .. }), "{err}");
    assert!(err.to_string().contains("series \"s\""), "{err}");
}
