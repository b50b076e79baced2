//! Tests of the CSV reader: a valid file, chunking, and every error naming its line.

use isobar_ingest::convert::request_to_batch;
use isobar_storage::{ColumnValues, SeriesWrite};

use super::*;

const SAMPLE: &str = "series,ts,env.temp_c:f64,env.rh:i64,meta.note:string,meta.ok:bool
station=KSEA,1970-01-01T00:00:01Z,11.5,80,,true
station=KBFI,5,3,,\"gusty, \"\"wet\"\"\",0

station=KSEA,2000000000,11.75,81,\"\",
";

#[test]
fn sample_file_becomes_columnar_batches() {
    let mut reader = CsvReader::new(SAMPLE.as_bytes(), "weather", 100).expect("header");
    assert_eq!(reader.columns().len(), 4);
    let request = reader.next_request().expect("valid").expect("has rows");
    assert!(reader.next_request().expect("valid").is_none());
    let batch = request_to_batch(request, 100).expect("valid");
    let ksea = SeriesWrite::new("weather", "station=KSEA", vec![1_000_000_000, 2_000_000_000])
        .column("env", "temp_c", ColumnValues::F64(vec![11.5, 11.75]))
        .column("env", "rh", ColumnValues::I64(vec![80, 81]))
        .sparse_column("meta", "ok", ColumnValues::Bool(vec![true, false]), vec![true, false])
        .sparse_column("meta", "note", ColumnValues::String(vec![String::new(), String::new()]), vec![false, true]);
    let kbfi = SeriesWrite::new("weather", "station=KBFI", vec![5])
        .column("env", "temp_c", ColumnValues::F64(vec![3.0]))
        .column("meta", "note", ColumnValues::String(vec!["gusty, \"wet\"".into()]))
        .column("meta", "ok", ColumnValues::Bool(vec![false]));
    assert_eq!(batch, WriteBatch { series: vec![ksea, kbfi] });
}

#[test]
fn rows_are_chunked() {
    let mut reader = CsvReader::new(SAMPLE.as_bytes(), "weather", 2).expect("header");
    let first = reader.next_request().expect("valid").expect("rows");
    let second = reader.next_request().expect("valid").expect("rows");
    assert!(reader.next_request().expect("valid").is_none());
    let rows = |r: &WriteRequest| r.batches.iter().map(|b| b.ts.len()).sum::<usize>();
    assert_eq!((rows(&first), rows(&second)), (2, 1));
}

#[test]
fn bad_files_name_the_line() {
    let cases = [
        ("", "empty"),
        ("ts,series\n", "must start with series,ts"),
        ("series,ts,temp:f64\n", "field 3"),
        ("series,ts,env.t:float32\n", "field 3"),
        ("series,ts,env.t:f64\ns,1,2,3\n", "line 2: 4 fields, the header has 3"),
        ("series,ts,env.t:f64\ns,1,abc\n", "line 2: env.t \"abc\" is not a valid f64"),
        ("series,ts,env.t:f64\n\ns,yesterday,1\n", "line 3: ts \"yesterday\""),
        ("series,ts,env.t:string\ns,1,\"open\n", "line 2: malformed quoting in field 3"),
        ("series,ts,env.t:string\ns,1,a\"b\n", "line 2: malformed quoting in field 3"),
    ];
    for (text, want) in cases {
        let message = match CsvReader::new(text.as_bytes(), "t", 10) {
            Err(e) => e.to_string(),
            Ok(mut reader) => reader.next_request().expect_err(text).to_string(),
        };
        assert!(message.contains(want), "{text:?}: {message}");
    }
}
