//! JSON Lines through the same mapping as CSV: values by key, nulls, refusals naming the file's
//! line and the key.

use isobar_ingest::convert::request_to_batch;
use isobar_storage::{ColumnValues, SeriesWrite, WriteBatch};

use super::super::error::ImportError;
use super::super::options::{ImportArgs, ImportOptions};
use super::super::report::Rejects;
use super::super::rows::Importer;
use super::super::source::jsonl_file::JsonlRecords;
use super::super::timestamp::TsUnit;

fn jsonl<'a>(text: &'a str, options: &ImportOptions) -> Result<Importer<JsonlRecords<&'a [u8]>>, ImportError> {
    Importer::from_records(JsonlRecords::new(text.as_bytes(), options)?, "weather", options, None, 100)
}

fn options(args: ImportArgs) -> ImportOptions {
    ImportOptions::from_args(&ImportArgs { delimiter: b',', ..args }).expect("options")
}

/// The error of importing `text`, header or row.
fn error(text: &str, args: ImportArgs) -> String {
    let options = options(args);
    match jsonl(text, &options) {
        Err(e) => e.to_string(),
        Ok(mut importer) => loop {
            match importer.next_chunk(&mut Err) {
                Err(e) => break e.to_string(),
                Ok(None) => panic!("{text:?} imported"),
                Ok(Some(_)) => {}
            }
        },
    }
}

const H: i64 = 3_600_000_000_000;
/// 2024-05-01T00:00:00Z.
const MAY1: i64 = 1_714_521_600_000_000_000;

#[test]
fn objects_map_by_key_with_templates_units_and_nulls() {
    // Keys in any order after the first object; a missing key and null are null; unmapped keys
    // (even nested or unknown ones) are skipped because --map is given; a number as a string and
    // an integer timestamp in seconds read as in CSV.
    let text = r#"{"station":"KSEA","time":"2024-05-01T00:00:00Z","temp":11.5,"rh":80,"note":"dry","ok":true,"extra":[1,2]}

{"time":"2024-05-01T01:00:00Z","station":"KSEA","temp":null,"rh":81,"other":{"x":1},"ok":false}
{"station":"KBFI","time":1714521600,"temp":"12.25","rh":null,"note":"a \"quoted\", comma"}
"#;
    let args = ImportArgs {
        series: Some("{station}".into()),
        ts_column: Some("time".into()),
        ts_unit: Some(TsUnit::S),
        map: vec![
            "temp=env.temp_c:f64".into(),
            "rh=env.rh:i64".into(),
            "note=meta.note:string".into(),
            "ok=meta.ok:bool".into(),
        ],
        ..ImportArgs::default()
    };
    let options = options(args);
    let mut importer = jsonl(text, &options).expect("header");
    assert_eq!(importer.plan().skipped, ["extra"]);
    let chunk = importer.next_chunk(&mut Err).expect("valid").expect("rows");
    assert_eq!((chunk.rows, chunk.points, chunk.first_line, chunk.last_line), (3, 8, 1, 4));
    assert!(importer.next_chunk(&mut Err).expect("end").is_none());
    let batch = request_to_batch(chunk.request, 100).expect("valid");
    let ksea = SeriesWrite::new("weather", "KSEA", vec![MAY1, MAY1 + H])
        .sparse_column("env", "temp_c", ColumnValues::F64(vec![11.5, 0.0]), vec![true, false])
        .column("env", "rh", ColumnValues::I64(vec![80, 81]))
        .sparse_column("meta", "note", ColumnValues::String(vec!["dry".into(), String::new()]), vec![true, false])
        .column("meta", "ok", ColumnValues::Bool(vec![true, false]));
    let kbfi = SeriesWrite::new("weather", "KBFI", vec![MAY1])
        .column("env", "temp_c", ColumnValues::F64(vec![12.25]))
        .column("meta", "note", ColumnValues::String(vec!["a \"quoted\", comma".into()]));
    assert_eq!(batch, WriteBatch { series: vec![ksea, kbfi] });
}

#[test]
fn native_keys_take_types_and_null_markers() {
    // The native header as keys; --null-values matches a string and a number's JSON text; an
    // empty string is null as in CSV.
    let text = concat!(
        "{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:00Z\",\"m.v:f64\":-9900,\"m.n:string\":\"NA\",\"m.i:i64\":1}\n",
        "{\"series\":\"s\",\"ts\":\"2024-05-01T01:00:00Z\",\"m.v:f64\":2,\"m.n:string\":\"\",\"m.i:i64\":null}\n",
        "{\"series\":\"s\",\"ts\":\"2024-05-01T02:00:00Z\",\"m.v:f64\":3e2,\"m.n:string\":\"x\"}\n",
    );
    let options = options(ImportArgs { null_values: vec!["-9900".into(), "NA".into()], ..ImportArgs::default() });
    let mut importer = jsonl(text, &options).expect("header");
    let chunk = importer.next_chunk(&mut Err).expect("valid").expect("rows");
    assert_eq!((chunk.rows, chunk.points), (3, 4));
    let batch = request_to_batch(chunk.request, 100).expect("valid");
    let want = SeriesWrite::new("weather", "s", vec![MAY1, MAY1 + H, MAY1 + 2 * H])
        .sparse_column("m", "i", ColumnValues::I64(vec![1, 0, 0]), vec![true, false, false])
        .sparse_column("m", "v", ColumnValues::F64(vec![0.0, 2.0, 300.0]), vec![false, true, true])
        .sparse_column(
            "m",
            "n",
            ColumnValues::String(vec![String::new(), String::new(), "x".into()]),
            vec![false, false, true],
        );
    assert_eq!(batch, WriteBatch { series: vec![want] });
}

#[test]
fn refusals_name_the_file_line_and_the_key() {
    let head = "{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:00Z\",\"m.v:f64\":1}\n";
    let plain = ImportArgs::default;
    let cases = [
        // A nested value, after a blank line: lines are the file's.
        (
            format!("{head}\n{{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:01Z\",\"m.v:f64\":{{\"a\":1}}}}\n"),
            plain(),
            "line 3, key \"m.v:f64\": an object is not a field value; expected a number, string, boolean or null",
        ),
        (
            format!("{head}{{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:01Z\",\"m.v:f64\":[1]}}\n"),
            plain(),
            "line 2, key \"m.v:f64\": an array is not a field value",
        ),
        (
            format!("{head}{{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:01Z\",\"m.w:f64\":2}}\n"),
            plain(),
            "line 2: key \"m.w:f64\" is not in the header (the keys of the first object, line 1: series, ts, m.v:f64)",
        ),
        (format!("{head}{{\"series\":\"s\",\r\n"), plain(), "line 2: not valid JSON: EOF while parsing"),
        (format!("{head}{{\"series\":\"s\"}} x\n"), plain(), "line 2: not valid JSON: trailing characters"),
        (format!("{head}[1,2]\n"), plain(), "line 2: an array is not a JSON object"),
        (format!("{head}{{\"series\":\"s\",\"series\":\"t\"}}\n"), plain(), "line 2: key \"series\" appears twice"),
        (
            format!("{head}{{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:01Z\",\"m.v:f64\":\"abc\"}}\n"),
            plain(),
            "line 2, column \"m.v:f64\": \"abc\" is not a valid f64",
        ),
        (
            format!("{head}{{\"series\":\"s\",\"ts\":true,\"m.v:f64\":1}}\n"),
            plain(),
            "line 2, column \"ts\": \"true\" is not a timestamp",
        ),
        (
            format!("title line\n{head}{{\"series\":null,\"ts\":\"2024-05-01T00:00:01Z\"}}\n"),
            ImportArgs { skip_lines: 1, ..plain() },
            "line 3: the series key is empty",
        ),
        ("".to_owned(), plain(), "no header line"),
        ("\n  \n".to_owned(), plain(), "no header line"),
        (
            "{\"a\":1}\n".to_owned(),
            plain(),
            "line 1: the series key (default; or give --series) names column \"series\"",
        ),
        ("{\"series\":\"s\",\"ts\":1,\"v\":1}\n".to_owned(), plain(), "line 1, column 3 \"v\": not family.column"),
        ("{\"series\":\"s\",\"ts\":1,\"ts\":2}\n".to_owned(), plain(), "line 1: key \"ts\" appears twice"),
        ("\u{feff}\"text\"\n".to_owned(), plain(), "line 1: a string is not a JSON object"),
    ];
    for (text, args, want) in cases {
        let message = error(&text, args);
        assert!(message.contains(want), "{text:?}: {message}");
    }
}

#[test]
fn bad_lines_are_skipped_under_max_errors_with_their_line() {
    let text = concat!(
        "{\"series\":\"s\",\"ts\":\"2024-05-01T00:00:00Z\",\"m.v:f64\":1}\n",
        "{\"series\":\"s\",\"ts\":\"2024-05-01T01:00:00Z\",\"m.v:f64\":{\"deep\":true}}\n",
        "not json\n",
        "{\"series\":\"s\",\"ts\":\"2024-05-01T02:00:00Z\",\"m.v:f64\":3}\n",
    );
    let options = options(ImportArgs::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rejects.csv");
    let mut rejects = Rejects::new(2, Some(&file)).expect("file");
    let mut importer = jsonl(text, &options).expect("header");
    let chunk = importer.next_chunk(&mut |e| rejects.reject(e)).expect("skipped").expect("rows");
    assert_eq!((chunk.rows, chunk.first_line, chunk.last_line, rejects.count()), (2, 1, 4, 2), "{chunk:?}");
    rejects.finish().expect("flush");
    let written = std::fs::read_to_string(&file).expect("read");
    let lines: Vec<&str> = written.lines().map(|l| l.split(',').next().unwrap_or_default()).collect();
    assert_eq!(lines, ["line", "2", "3"], "{written}");
    // --from-line skips earlier lines, bad ones included, without counting them.
    let options = ImportOptions { from_line: 4, ..options };
    let mut importer = jsonl(text, &options).expect("header");
    let chunk = importer.next_chunk(&mut Err).expect("bad lines before 4 are not read").expect("rows");
    assert_eq!((chunk.rows, chunk.first_line), (1, 4));
}
