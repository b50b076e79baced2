//! Tests of the importer: the native format, chunking, real-world files (skipped lines, mapped
//! columns, date + time columns, hour-ending 24:00, missing-value markers, a BOM, types from the
//! table), and every error naming its line and column; JSON Lines and Parquet files through the
//! same mapping (values, nulls, refusals naming line or row and key or column).

use isobar_ingest::convert::request_to_batch;
use isobar_proto::v1::WriteRequest;
use isobar_storage::{ColumnDef, ColumnType, ColumnValues, FamilyDef, SeriesWrite, TableDef, WriteBatch};

use super::options::{ImportArgs, ImportOptions};
use super::rows::Importer;
use super::source::Records;
use super::source::csv_file::CsvRecords;
use super::timestamp::TsUnit;

const SAMPLE: &str = "series,ts,env.temp_c:f64,env.rh:i64,meta.note:string,meta.ok:bool
station=KSEA,1970-01-01T00:00:01Z,11.5,80,,true
station=KBFI,5,3,,\"gusty, \"\"wet\"\"\",0

station=KSEA,1970-01-01T00:00:02Z,11.75,81,\"\",
";

fn importer<'a>(
    text: &'a str,
    options: &ImportOptions,
    table: Option<&TableDef>,
    per: usize,
) -> Importer<CsvRecords<&'a [u8]>> {
    Importer::new(text.as_bytes(), "weather", options, table, per).expect("header")
}

/// Every request of a file, failing on the first bad row.
fn requests<S: Records>(mut importer: Importer<S>) -> Vec<WriteRequest> {
    let mut out = Vec::new();
    while let Some(chunk) = importer.next_chunk(&mut Err).expect("valid") {
        out.push(chunk.request);
    }
    out
}

fn options(args: ImportArgs) -> ImportOptions {
    ImportOptions::from_args(&args).expect("options")
}

/// The error of importing `text` with `args`, header or row.
fn error(text: &str, args: ImportArgs, table: Option<&TableDef>) -> String {
    let options = options(args);
    match Importer::new(text.as_bytes(), "t", &options, table, 10) {
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

fn table_def() -> TableDef {
    let column = |id, name: &str, ty| ColumnDef { id, name: name.into(), ty };
    TableDef {
        id: 1,
        name: "weather".into(),
        families: vec![FamilyDef {
            id: 1,
            name: "met".into(),
            columns: vec![column(1, "temp_c", ColumnType::F64), column(2, "wind", ColumnType::I64)],
            ttl_ns: None,
        }],
        dynamic_columns: false,
        ttl_ns: None,
    }
}

#[test]
fn sample_file_becomes_columnar_batches() {
    // An empty field is null whether quoted or not (the reader used to keep `""` as an empty
    // string; a CSV reader cannot tell them apart reliably, and data tools read both as missing).
    let options = ImportOptions::default();
    let requests = requests(importer(SAMPLE, &options, None, 100));
    assert_eq!(requests.len(), 1);
    let batch = request_to_batch(requests.into_iter().next().expect("one"), 100).expect("valid");
    let ksea = SeriesWrite::new("weather", "station=KSEA", vec![1_000_000_000, 2_000_000_000])
        .column("env", "temp_c", ColumnValues::F64(vec![11.5, 11.75]))
        .column("env", "rh", ColumnValues::I64(vec![80, 81]))
        .sparse_column("meta", "ok", ColumnValues::Bool(vec![true, false]), vec![true, false]);
    let kbfi = SeriesWrite::new("weather", "station=KBFI", vec![5])
        .column("env", "temp_c", ColumnValues::F64(vec![3.0]))
        .column("meta", "note", ColumnValues::String(vec!["gusty, \"wet\"".into()]))
        .column("meta", "ok", ColumnValues::Bool(vec![false]));
    assert_eq!(batch, WriteBatch { series: vec![ksea, kbfi] });
}

#[test]
fn rows_are_chunked() {
    let options = ImportOptions::default();
    let requests = requests(importer(SAMPLE, &options, None, 2));
    let rows = |r: &WriteRequest| r.batches.iter().map(|b| b.ts.len()).sum::<usize>();
    assert_eq!(requests.iter().map(rows).collect::<Vec<_>>(), [2, 1]);
}

/// The first lines of a TMY3 file as NREL ships them (and pvlib bundles them).
const TMY3: &str = "\u{feff}723170,\"GREENSBORO PIEDMONT TRIAD INT\",NC,-5.0,36.100,-79.950,273
Date (MM/DD/YYYY),Time (HH:MM),GHI (W/m^2),Dry-bulb (C),Wspd (m/s),Present weather
12/31/1987,23:00,0,-2.5,3.1,NA
12/31/1987,24:00,0,-3.0,-9900,NA
01/01/1988,01:00,0,-3.5,2.0,NA
";

fn tmy3_args() -> ImportArgs {
    ImportArgs {
        skip_lines: 1,
        map: vec!["Dry-bulb (C)=met.temp_c".into(), "Wspd (m/s)=met.wind_ms:f64".into()],
        series: Some("723170".into()),
        date_column: Some("Date (MM/DD/YYYY)".into()),
        time_column: Some("Time (HH:MM)".into()),
        ts_format: Some("%m/%d/%Y %H:%M".into()),
        tz: Some("Etc/GMT+5".into()),
        null_values: vec!["-9900".into(), "NA".into()],
        delimiter: b',',
        ..ImportArgs::default()
    }
}

#[test]
fn a_tmy3_file_imports_with_flags_alone() {
    let mut table = table_def();
    if let Some(f) = table.families.first_mut() {
        f.columns.push(ColumnDef { id: 3, name: "wind_ms".into(), ty: ColumnType::F64 });
    }
    let options = options(tmy3_args());
    let importer = importer(TMY3, &options, Some(&table), 100);
    assert_eq!(importer.plan().skipped, ["GHI (W/m^2)", "Present weather"]);
    let request = requests(importer).into_iter().next().expect("rows");
    let batch = request_to_batch(request, 100).expect("valid");
    // 23:00 local standard time (UTC-5) of 1987-12-31 is 04:00Z on 1988-01-01; 24:00 is the
    // midnight that ends the day; -9900 is missing.
    let h = 3_600_000_000_000i64;
    let y1988 = 567_993_600_000_000_000i64;
    let want = SeriesWrite::new("weather", "723170", vec![y1988 + 4 * h, y1988 + 5 * h, y1988 + 6 * h])
        .column("met", "temp_c", ColumnValues::F64(vec![-2.5, -3.0, -3.5]))
        .sparse_column("met", "wind_ms", ColumnValues::F64(vec![3.1, 0.0, 2.0]), vec![true, false, true]);
    assert_eq!(batch, WriteBatch { series: vec![want] });
}

#[test]
fn scan_csv_output_imports_back_with_types_from_the_table() {
    let text = "series,ts,met.temp_c,met.wind\ns1,2024-05-01T00:00:00Z,1.5,3\ns2,2024-05-01T00:00:00Z,,4\n";
    let options = ImportOptions::default();
    let table = table_def();
    let batch = request_to_batch(requests(importer(text, &options, Some(&table), 10)).remove(0), 10).expect("valid");
    let ts = 1_714_521_600_000_000_000;
    let s1 = SeriesWrite::new("weather", "s1", vec![ts]).column("met", "temp_c", ColumnValues::F64(vec![1.5])).column(
        "met",
        "wind",
        ColumnValues::I64(vec![3]),
    );
    let s2 = SeriesWrite::new("weather", "s2", vec![ts]).column("met", "wind", ColumnValues::I64(vec![4]));
    assert_eq!(batch, WriteBatch { series: vec![s1, s2] });
}

#[test]
fn series_templates_and_units() {
    let text = "station,id,t,met.temp_c:f64\nKSEA,1,567993600,1\nKBFI,2,567993601,2\n";
    let args = ImportArgs {
        series: Some("{station}-{id}".into()),
        ts_column: Some("t".into()),
        ts_unit: Some(TsUnit::S),
        delimiter: b',',
        ..ImportArgs::default()
    };
    let options = options(args);
    let mut importer = importer(text, &options, None, 10);
    let chunk = importer.next_chunk(&mut Err).expect("valid").expect("rows");
    let keys: Vec<(&str, i64)> = chunk.request.batches.iter().map(|b| (b.series.as_str(), b.ts[0])).collect();
    assert_eq!(keys, [("KSEA-1", 567_993_600_000_000_000), ("KBFI-2", 567_993_601_000_000_000)]);
    assert_eq!((chunk.rows, chunk.points, chunk.first_line, chunk.last_line), (2, 2, 2, 3));
    assert_eq!(importer.series(), 2);
}

#[test]
fn bad_files_name_the_line_and_column() {
    let plain = || ImportArgs { delimiter: b',', ..ImportArgs::default() };
    let cases = [
        ("", plain(), "no header line"),
        ("ts,value\n", plain(), "names column \"series\", which the header does not have (it has: ts, value)"),
        ("series,ts,temp:f64\n", plain(), "line 1, column 3 \"temp:f64\": not family.column[:type]; map it with --map"),
        ("series,ts,env.t:float32\n", plain(), "column 3 \"env.t:float32\""),
        ("series,ts,env.t\n", plain(), "no type; the table was not asked"),
        ("series,ts,env.t:f64\ns,1,2,3\n", plain(), "line 2: 4 fields, the header has 3"),
        ("series,ts,env.t:f64\ns,1,abc\n", plain(), "line 2, column \"env.t:f64\": \"abc\" is not a valid f64"),
        ("series,ts,env.t:f64\n\ns,yesterday,1\n", plain(), "line 3, column \"ts\": \"yesterday\" is not a timestamp"),
        (
            "series,ts,env.t:f64\ns,1988-01-01 01:00,1\n",
            plain(),
            "line 2, column \"ts\": \"1988-01-01 01:00\" has no offset or zone: give --tz",
        ),
        (
            "series,ts,env.t:f64\ns,567993600,1\n",
            plain(),
            "line 2, column \"ts\": \"567993600\" read as nanoseconds is 1970-01-01T00:00:00.5679936Z, which is implausible; as s it is 1988-01-01T00:00:00Z: give --ts-unit s",
        ),
        ("series,ts,env.t:f64\n,1,1\n", plain(), "line 2: the series key is empty"),
        (
            "series,ts,a,b\n",
            ImportArgs { map: vec!["a=m.v:f64".into(), "b=m.v:f64".into()], ..plain() },
            "columns \"a\" and \"b\" both go to m.v",
        ),
        ("series,ts,m.v:string\ns,1,\"two\nlines\"\ns,1,\"x\",\n", plain(), "line 4: 4 fields, the header has 3"),
        ("series,ts,v\n", ImportArgs { map: vec!["V=m.v:f64".into()], ..plain() }, "--map names column \"V\""),
        ("\u{feff}series,ts,env.t:f64\ns,1,x\n", plain(), "line 2, column \"env.t:f64\": \"x\""),
    ];
    for (text, args, want) in cases {
        let message = error(text, args, None);
        assert!(message.contains(want), "{text:?}: {message}");
    }
    let table = table_def();
    let message = error("series,ts,met.nope\n", plain(), Some(&table));
    assert!(message.contains("family weather.met has no column nope"), "{message}");
    let message = error("series,ts,other.x\n", plain(), Some(&table));
    assert!(message.contains("table weather has no family other"), "{message}");
}

#[test]
fn dst_refusals_name_the_line() {
    let args = ImportArgs { tz: Some("America/New_York".into()), delimiter: b',', ..ImportArgs::default() };
    let text = "series,ts,m.v:f64\ns,2024-03-10 01:30,1\ns,2024-03-10 02:30,1\n";
    let message = error(text, args.clone(), None);
    assert!(
        message.contains("line 3, column \"ts\": \"2024-03-10 02:30\" does not exist in America/New_York"),
        "{message}"
    );
    let text = "series,ts,m.v:f64\ns,2024-11-03 01:30,1\n";
    assert!(error(text, args, None).contains("is ambiguous in America/New_York"));
}

#[test]
fn bad_options_are_refused() {
    let bad = |args: ImportArgs| ImportOptions::from_args(&args).expect_err("refused").to_string();
    assert!(
        bad(ImportArgs { map: vec!["x".into()], ..ImportArgs::default() })
            .contains("--map: \"x\" is not SRC=FAMILY.COLUMN")
    );
    assert!(bad(ImportArgs { series: Some("{".into()), ..ImportArgs::default() }).contains("{} names no column"));
    assert!(bad(ImportArgs { series: Some("a}".into()), ..ImportArgs::default() }).contains("a } without its {"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("map.txt");
    std::fs::write(&file, "# mapping\nDry-bulb (C)=met.temp_c\n\nbroken\n").expect("write");
    let message = bad(ImportArgs { map_file: Some(file.clone()), ..ImportArgs::default() });
    assert!(message.contains("map.txt:4: \"broken\""), "{message}");
}

#[test]
fn tally_merges_duplicate_rows_and_cells() {
    let mut tally = super::report::Tally::default();
    tally.add("s", 1, [0, 1].into_iter());
    tally.add("s", 1, [1].into_iter());
    tally.add("s", 1, [2].into_iter());
    tally.add("t", 1, [0].into_iter());
    assert_eq!((tally.rows_read, tally.rows, tally.points, tally.series(), tally.duplicates()), (4, 2, 4, 2, 2));
}

#[test]
fn rejects_skip_up_to_max_and_record_line_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rejects.csv");
    let text = "series,ts,m.v:f64\ns,1,x\ns,2,1\ns,3,y\n";
    let options = ImportOptions::default();
    let mut rejects = super::report::Rejects::new(1, Some(&file)).expect("file");
    let mut reader = importer(text, &options, None, 10);
    let err = reader.next_chunk(&mut |e| rejects.reject(e)).expect_err("second bad row");
    assert!(err.to_string().starts_with("more than --max-errors 1 bad rows; the last: line 4"), "{err}");
    rejects.finish().expect("flush");
    let written = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        written,
        "line,reason\n2,\"line 2, column \"\"m.v:f64\"\": \"\"x\"\" is not a valid f64 (a number such as 1.5)\"\n"
    );
    let mut rejects = super::report::Rejects::new(2, None).expect("no file");
    let mut reader = importer(text, &options, None, 10);
    let chunk = reader.next_chunk(&mut |e| rejects.reject(e)).expect("skips").expect("rows");
    assert_eq!((chunk.rows, chunk.first_line, rejects.count()), (1, 3, 2));
    // Header errors are never skipped.
    let mut rejects = super::report::Rejects::new(5, None).expect("no file");
    assert!(rejects.reject(super::error::ImportError::NoHeader { skipped: 0 }).is_err());
}

#[test]
fn from_line_skips_earlier_rows() {
    let options = ImportOptions { from_line: 3, ..ImportOptions::default() };
    let mut reader = importer("series,ts,m.v:f64\ns,1,x\ns,2,1\n", &options, None, 10);
    let chunk = reader.next_chunk(&mut Err).expect("line 2 skipped").expect("rows");
    assert_eq!((chunk.rows, chunk.first_line), (1, 3));
}

mod jsonl_files;
mod parquet_files;
