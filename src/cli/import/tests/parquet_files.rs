//! Parquet through the same mapping as CSV: columns by name, types from the file, timestamps as
//! instants, nulls, refusals naming the row and the column, damaged files refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, Time32SecondArray, TimestampMillisecondArray, TimestampSecondArray,
};
use isobar_ingest::convert::request_to_batch;
use isobar_storage::{ColumnType, ColumnValues, SeriesWrite, WriteBatch};
use parquet::arrow::ArrowWriter;

use super::super::error::ImportError;
use super::super::options::{ImportArgs, ImportOptions};
use super::super::report::Rejects;
use super::super::rows::{Chunk, Importer};
use super::super::source::{FileFormat, Records, open_records};
use super::super::timestamp::TsUnit;
use super::table_def;

const H: i64 = 3_600_000_000_000;
/// 2024-05-01T00:00:00Z.
const MAY1: i64 = 1_714_521_600_000_000_000;

/// `batch` written as an uncompressed Parquet file `name` in `dir`.
fn write(dir: &Path, name: &str, batch: &RecordBatch) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    path
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

fn open(path: &Path, args: ImportArgs) -> Result<Importer<Box<dyn Records>>, ImportError> {
    let options = ImportOptions::from_args(&ImportArgs { delimiter: b',', ..args }).expect("options");
    Importer::from_records(open_records(path, &options)?, "weather", &options, None, 100)
}

/// Every chunk of a file, failing on the first bad row.
fn chunks(mut importer: Importer<Box<dyn Records>>) -> Vec<Chunk> {
    let mut out = Vec::new();
    while let Some(chunk) = importer.next_chunk(&mut Err).expect("valid") {
        out.push(chunk);
    }
    out
}

/// The native columns (`series`, `ts`, `family.column`) with nulls, as `isobar export` writes.
fn native() -> RecordBatch {
    let ms = MAY1 / 1_000_000;
    let ts = TimestampMillisecondArray::from(vec![ms, ms + 1_001, ms]).with_timezone("+02:00");
    let note: DictionaryArray<Int32Type> = vec![Some("a, b"), None, Some("x")].into_iter().collect();
    batch(vec![
        ("series", Arc::new(StringArray::from(vec!["s1", "s1", "s2"])) as ArrayRef),
        ("ts", Arc::new(ts)),
        ("env.temp", Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)]))),
        ("env.count", Arc::new(Int32Array::from(vec![Some(3), None, Some(7)]))),
        ("env.ok", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]))),
        ("meta.note", Arc::new(note)),
    ])
}

#[test]
fn native_columns_import_with_types_from_the_file_and_instants_as_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "native.parquet", &native());
    // A timestamp column is an instant (here in ms, with a zone): --tz, --ts-unit and
    // --ts-format, meant for text, do not change it.
    let args = ImportArgs {
        tz: Some("America/New_York".into()),
        ts_unit: Some(TsUnit::S),
        ts_format: Some("%d/%m/%Y".into()),
        ..ImportArgs::default()
    };
    let importer = open(&path, args).expect("header");
    let types: Vec<ColumnType> = importer.plan().values.iter().map(|v| v.ty).collect();
    assert_eq!(types, [ColumnType::F64, ColumnType::I64, ColumnType::Bool, ColumnType::String]);
    let mut chunks = chunks(importer);
    assert_eq!(chunks.len(), 1);
    let chunk = chunks.remove(0);
    assert_eq!((chunk.rows, chunk.points, chunk.first_line, chunk.last_line), (3, 8, 1, 3));
    let s1 = SeriesWrite::new("weather", "s1", vec![MAY1, MAY1 + 1_001_000_000])
        .sparse_column("env", "temp", ColumnValues::F64(vec![1.5, 0.0]), vec![true, false])
        .sparse_column("env", "count", ColumnValues::I64(vec![3, 0]), vec![true, false])
        .column("env", "ok", ColumnValues::Bool(vec![true, false]))
        .sparse_column("meta", "note", ColumnValues::String(vec!["a, b".into(), String::new()]), vec![true, false]);
    let s2 = SeriesWrite::new("weather", "s2", vec![MAY1])
        .column("env", "temp", ColumnValues::F64(vec![-2.0]))
        .column("env", "count", ColumnValues::I64(vec![7]))
        .column("meta", "note", ColumnValues::String(vec!["x".into()]));
    assert_eq!(request_to_batch(chunk.request, 100).expect("valid"), WriteBatch { series: vec![s1, s2] });

    // With the table known, its types win over the file's (a float column into an i64 one).
    let options = ImportOptions::from_args(&ImportArgs {
        map: vec!["env.temp=met.wind".into()],
        delimiter: b',',
        ..ImportArgs::default()
    })
    .expect("options");
    let table = table_def();
    let importer =
        Importer::from_records(open_records(&path, &options).expect("open"), "t", &options, Some(&table), 10)
            .expect("header");
    assert_eq!(importer.plan().values.iter().map(|v| v.ty).collect::<Vec<_>>(), [ColumnType::I64]);
    assert_eq!(importer.plan().skipped, ["env.count", "env.ok", "meta.note"]);
}

#[test]
fn mapped_columns_templates_and_bad_values_name_the_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut tags = ListBuilder::new(Int32Builder::new());
    for _ in 0..3 {
        tags.values().append_value(1);
        tags.append(true);
    }
    let t0 = MAY1 / 1_000_000_000;
    let path = write(
        dir.path(),
        "frame.parquet",
        &batch(vec![
            ("station", Arc::new(Int64Array::from(vec![723170, 723170, 703165])) as ArrayRef),
            ("time", Arc::new(TimestampSecondArray::from(vec![t0, t0 + 3600, t0]))),
            ("temp", Arc::new(StringArray::from(vec![Some("1.5"), Some("n/a"), None]))),
            ("rh", Arc::new(Float32Array::from(vec![0.1, 80.0, 81.5]))),
            ("tags", Arc::new(tags.finish())),
        ]),
    );
    let args = || ImportArgs {
        series: Some("{station}".into()),
        ts_column: Some("time".into()),
        map: vec!["temp=met.temp_c:f64".into(), "rh=met.rh".into()],
        ..ImportArgs::default()
    };
    let mut importer = open(&path, args()).expect("an unmapped list column is skipped");
    assert_eq!(importer.plan().skipped, ["tags"]);
    let err = importer.next_chunk(&mut Err).expect_err("n/a");
    assert_eq!(
        err.to_string(),
        "row 2, column \"temp\": \"n/a\" is not a valid f64 (a number such as 1.5)",
        "rows are numbered from 1"
    );
    let mut rejects = Rejects::new(1, None).expect("no file");
    let mut importer = open(&path, args()).expect("header");
    let chunk = importer.next_chunk(&mut |e| rejects.reject(e)).expect("one bad row skipped").expect("rows");
    assert_eq!((chunk.rows, chunk.first_line, chunk.last_line, rejects.count()), (2, 1, 3, 1));
    let batch = request_to_batch(chunk.request, 100).expect("valid");
    // A 32-bit float keeps its own shortest form (0.1, not 0.10000000149011612).
    let greensboro = SeriesWrite::new("weather", "723170", vec![MAY1])
        .column("met", "temp_c", ColumnValues::F64(vec![1.5]))
        .column("met", "rh", ColumnValues::F64(vec![0.1]));
    let sand_point =
        SeriesWrite::new("weather", "703165", vec![MAY1]).column("met", "rh", ColumnValues::F64(vec![81.5]));
    assert_eq!(batch, WriteBatch { series: vec![greensboro, sand_point] });

    let refused = |args: ImportArgs| open(&path, args).err().map(|e| e.to_string()).unwrap_or_default();
    let message = refused(ImportArgs { map: vec!["tags=met.tags:string".into()], ..args() });
    assert!(message.starts_with("the Parquet schema, column \"tags\": type List("), "{message}");
    let message = refused(ImportArgs { map: vec!["Temp=met.t:f64".into()], ..args() });
    assert!(message.starts_with("the Parquet schema: --map names column \"Temp\", which the header does not have (it has: station, time, temp, rh, tags)"), "{message}");
    let message = refused(ImportArgs::default());
    assert!(message.contains("names column \"series\""), "{message}");
    let message = refused(ImportArgs { skip_lines: 1, ..args() });
    assert_eq!(message, "--skip-lines does not apply to Parquet files");
    let message = refused(ImportArgs { file_format: Some(FileFormat::Parquet), ..args() });
    assert!(message.is_empty(), "{message}");
}

#[test]
fn date_and_time_columns_read_as_text_in_the_zone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let day = i32::try_from(MAY1 / (24 * H)).expect("days");
    let path = write(
        dir.path(),
        "tmy.parquet",
        &batch(vec![
            ("day", Arc::new(Date32Array::from(vec![day, day])) as ArrayRef),
            ("clock", Arc::new(Time32SecondArray::from(vec![3600, 7200]))),
            ("ghi", Arc::new(Int32Array::from(vec![Some(-9900), Some(12)]))),
        ]),
    );
    let args = ImportArgs {
        series: Some("stn".into()),
        date_column: Some("day".into()),
        time_column: Some("clock".into()),
        tz: Some("Etc/GMT+5".into()),
        null_values: vec!["-9900".into()],
        map: vec!["ghi=met.ghi".into()],
        ..ImportArgs::default()
    };
    let chunk = chunks(open(&path, args).expect("header")).remove(0);
    let want = SeriesWrite::new("weather", "stn", vec![MAY1 + 6 * H, MAY1 + 7 * H]).sparse_column(
        "met",
        "ghi",
        ColumnValues::I64(vec![0, 12]),
        vec![false, true],
    );
    assert_eq!(request_to_batch(chunk.request, 100).expect("valid"), WriteBatch { series: vec![want] });
}

#[test]
fn truncated_or_damaged_files_are_refused_not_panicked_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.parquet", &native());
    let bytes = std::fs::read(&good).expect("read");
    let cut = dir.path().join("cut.parquet");
    for len in [0, 3, 4, 12, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&cut, bytes.get(..len).expect("prefix")).expect("write");
        let message = open(&cut, ImportArgs::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("not a readable Parquet file (truncated, damaged or not Parquet): "),
            "{len}: {message}"
        );
    }
    // The footer intact but the data pages overwritten: refused when the rows are read.
    let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().expect("4 bytes")) as usize;
    let mut damaged = bytes.clone();
    damaged[4..bytes.len() - 8 - footer].fill(0xA5);
    let path = dir.path().join("damaged.parquet");
    std::fs::write(&path, &damaged).expect("write");
    let mut importer = open(&path, ImportArgs::default()).expect("the footer reads");
    let message = importer.next_chunk(&mut Err).expect_err("damaged").to_string();
    assert!(message.starts_with("row 1: cannot read the Parquet data (truncated or damaged file): "), "{message}");
    // Not Parquet at all, and Parquet on standard input.
    let text = dir.path().join("text.parquet");
    std::fs::write(&text, "series,ts\n").expect("write");
    assert!(open(&text, ImportArgs::default()).is_err_and(|e| matches!(e, ImportError::ParquetOpen { .. })));
    let stdin = ImportArgs { file_format: Some(FileFormat::Parquet), ..ImportArgs::default() };
    assert!(open(Path::new("-"), stdin).is_err_and(|e| matches!(e, ImportError::ParquetStdin)));
}

#[test]
fn the_format_comes_from_the_flag_else_the_name() {
    let of = |name: &str, flag| FileFormat::of(Path::new(name), flag);
    assert_eq!(of("a.csv", None), FileFormat::Csv);
    assert_eq!(of("a.JSONL", None), FileFormat::Jsonl);
    assert_eq!(of("dir/a.ndjson", None), FileFormat::Jsonl);
    assert_eq!(of("a.parquet", None), FileFormat::Parquet);
    assert_eq!(of("-", None), FileFormat::Csv);
    assert_eq!(of("a.txt", None), FileFormat::Csv);
    assert_eq!(of("a.parquet", Some(FileFormat::Csv)), FileFormat::Csv);
    assert_eq!(of("-", Some(FileFormat::Jsonl)), FileFormat::Jsonl);
    // A CSV-only flag with another format.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.jsonl");
    std::fs::write(&path, "{}\n").expect("write");
    let options = ImportOptions { delimiter: b';', ..ImportOptions::default() };
    let message = open_records(&path, &options).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(message, "--delimiter does not apply to JSON Lines files");
}

#[test]
fn snappy_files_as_pandas_writes_them_import_like_uncompressed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snappy.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&path).expect("create"), native().schema(), Some(props))
            .expect("writer");
    writer.write(&native()).expect("write");
    writer.close().expect("close");
    let plain = write(dir.path(), "plain.parquet", &native());
    let snappy = chunks(open(&path, ImportArgs::default()).expect("snappy header"));
    let plain = chunks(open(&plain, ImportArgs::default()).expect("plain header"));
    assert_eq!(snappy.len(), 1);
    assert_eq!(snappy[0].rows, 3);
    assert_eq!(snappy[0].request, plain[0].request, "the same rows as the uncompressed file");
}
