//! Wire-level tests of the generated types and the descriptor set.

use prost::Message;

use crate::v1::{
    BoolValues, Cell, Column, DoubleValues, Int64Values, Row, SeriesBatch, StringValues, WriteRequest, cell, column,
};

fn column(name: &str, values: column::Values, validity: Vec<u8>) -> Column {
    Column { family: "env".into(), name: name.into(), values: Some(values), validity, nulls: Vec::new() }
}

fn sample_request() -> WriteRequest {
    WriteRequest {
        batches: vec![SeriesBatch {
            table: "weather".into(),
            series: "station=KSEA".into(),
            ts: vec![1_700_000_000_000_000_000, -5, i64::MAX - 1],
            columns: vec![
                column(
                    "temp",
                    column::Values::F64Values(DoubleValues { values: vec![1.5, f64::MIN, -0.0] }),
                    Vec::new(),
                ),
                column("count", column::Values::I64Values(Int64Values { values: vec![-1, 0, i64::MIN] }), vec![0b101]),
                column("ok", column::Values::BoolValues(BoolValues { values: vec![true, false, true] }), Vec::new()),
                column(
                    "note",
                    column::Values::StringValues(StringValues {
                        values: vec!["a".into(), String::new(), "ünï".into()],
                    }),
                    vec![0b011],
                ),
            ],
        }],
        rows: vec![Row {
            table: "weather".into(),
            series: "station=KBFI".into(),
            ts: 42,
            cells: vec![
                Cell {
                    family: "env".into(),
                    column: "temp".into(),
                    value: Some(cell::Value::F64Value(3.25)),
                    null: false,
                },
                Cell {
                    family: "env".into(),
                    column: "note".into(),
                    value: Some(cell::Value::StringValue("x".into())),
                    null: false,
                },
            ],
        }],
        producer_id: "gw-1".into(),
        producer_seq: 7,
        ts_unit: crate::v1::TsUnit::Milliseconds as i32,
    }
}

#[test]
fn write_request_round_trips_through_bytes() {
    let request = sample_request();
    let bytes = request.encode_to_vec();
    let decoded = WriteRequest::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(decoded, request);
    assert_eq!(decoded.encode_to_vec(), bytes, "re-encoding gives the same bytes");
}

#[test]
fn timestamps_are_packed_fixed_width() {
    let batch = SeriesBatch { ts: vec![1_700_000_000_000_000_000; 100], ..Default::default() };
    // Field tag (1 byte) + length varint (2 bytes) + 100 * 8 bytes.
    assert_eq!(batch.encoded_len(), 1 + 2 + 800);
}

#[test]
fn truncated_bytes_are_an_error_not_a_panic() {
    let bytes = sample_request().encode_to_vec();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        let prefix = bytes.get(..cut).expect("cut is in bounds");
        assert!(WriteRequest::decode(prefix).is_err(), "cut at {cut} of {}", bytes.len());
    }
}

#[test]
fn descriptor_set_lists_every_service_with_comments() {
    let fds = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).expect("decodes");
    let services: Vec<String> =
        fds.file.iter().flat_map(|f| f.service.iter().map(move |s| format!("{}.{}", f.package(), s.name()))).collect();
    for want in ["isobar.v1.Ingest", "isobar.v1.Query", "isobar.v1.Admin"] {
        assert!(services.iter().any(|s| s == want), "{want} missing from {services:?}");
    }
    assert!(
        fds.file.iter().all(|f| f.source_code_info.is_some()),
        "source info (comments) is kept for reflection clients"
    );
}
