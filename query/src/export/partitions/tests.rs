//! Partition keys, the row ceiling and the byte target of [`Partitions`], on real files.

use std::fs::File;
use std::path::Path;

use arrow_array::{Float64Array, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::export::date::DAY_NS;
use crate::export::writer::properties;

const T2024: i64 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, false),
        Field::new("ts", isobar_storage::ts_arrow_type(), false),
        Field::new("v", DataType::Float64, true),
    ]))
}

/// `n` rows of series `s`, `step` ns apart from `t0`, with values that do not compress away.
fn batch(s: &str, t0: i64, step: i64, n: usize) -> RecordBatch {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let values: Vec<f64> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from(vec![s; n])),
            Arc::new(
                TimestampNanosecondArray::from((0..n as i64).map(|i| t0 + i * step).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from(values)),
        ],
    )
    .expect("batch")
}

/// Writes `batches` into `dir` and returns the files, in the order they were finished.
fn write(dir: &Path, partition: Partition, limits: FileLimits, batches: &[RecordBatch]) -> Vec<ExportedFile> {
    let props = properties(&schema(), 1 << 20).expect("properties");
    let mut parts = Partitions::new(dir.to_path_buf(), schema(), props, partition, limits, 64 << 20, Shared::new(None));
    let mut files = Vec::new();
    for b in batches {
        parts.write(b, &mut |f| files.push(f)).expect("write");
    }
    parts.finish(&mut |f| files.push(f)).expect("finish");
    files
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open")).expect("parquet");
    reader.build().expect("reader").map(|b| b.expect("batch")).collect()
}

fn ts_of(batches: &[RecordBatch]) -> Vec<i64> {
    batches.iter().flat_map(|b| b.column(1).as_primitive::<TimestampNanosecondType>().values().to_vec()).collect()
}

const NO_LIMIT: FileLimits = FileLimits { rows: u64::MAX, bytes: u64::MAX };

#[test]
fn rows_go_to_the_directory_of_their_period() {
    let hour = 3_600_000_000_000;
    // Hourly from 2023-12-31T00:00 to 2024-03-01T23:00: two years, four months, 62 days.
    let rows = batch("s", T2024 - DAY_NS, hour, 24 * 62);
    let cases: [(Partition, &[&str]); 4] = [
        (Partition::None, &[""]),
        (Partition::Year, &["year=2023", "year=2024"]),
        (Partition::Month, &["month=2023-12", "month=2024-01", "month=2024-02"]),
        (Partition::Day, &["date=2023-12-31", "date=2024-01-01", "date=2024-01-02"]),
    ];
    for (partition, some_dirs) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = write(dir.path(), partition, NO_LIMIT, std::slice::from_ref(&rows));
        let mut total = 0;
        for f in &files {
            let rel = f.path.strip_prefix(dir.path()).expect("inside");
            let parent = rel.parent().expect("parent").to_string_lossy().into_owned();
            let expect_parent = partition.column().map(|c| format!("{c}={}", f.partition)).unwrap_or_default();
            assert_eq!(parent, expect_parent, "{partition:?}: {}", rel.display());
            let ts = ts_of(&read(&f.path));
            total += ts.len();
            let first = partition.period(ts[0]);
            assert!(ts.iter().all(|t| first.holds(*t)), "{partition:?}: one period per file");
            assert_eq!(partition.value(first.key), f.partition);
        }
        assert_eq!(total, rows.num_rows(), "{partition:?}");
        for want in some_dirs {
            assert!(dir.path().join(want).is_dir() || want.is_empty(), "{partition:?}: {want}");
        }
        let expected_files = match partition {
            Partition::None => 1,
            Partition::Year => 2,
            Partition::Month => 4, // Dec, Jan, Feb, Mar 1st
            Partition::Day => 62,  // Dec 31st to Mar 1st
        };
        assert_eq!(files.len(), expected_files, "{partition:?}");
    }
}

#[test]
fn the_row_ceiling_splits_a_partition_into_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files =
        write(dir.path(), Partition::None, FileLimits { rows: 1000, bytes: u64::MAX }, &[batch("s", T2024, 1, 2500)]);
    let rows: Vec<u64> = files.iter().map(|f| f.rows).collect();
    assert_eq!(rows, [1000, 1000, 500]);
    let mut names: Vec<String> =
        files.iter().map(|f| f.path.file_name().expect("name").to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["part-0.parquet", "part-1.parquet", "part-2.parquet"]);
}

#[test]
fn files_end_near_the_byte_target() {
    let target = 256 << 10;
    let dir = tempfile::tempdir().expect("tempdir");
    // About 2.4 MB of incompressible values in batches of 65,536 rows (~0.8 MB each).
    let batches: Vec<RecordBatch> = (0..5).map(|i| batch("s", T2024 + i * 65_536, 1, 65_536)).collect();
    let files = write(dir.path(), Partition::None, FileLimits { rows: u64::MAX, bytes: target }, &batches);
    let total: u64 = files.iter().map(|f| f.rows).sum();
    assert_eq!(total, 5 * 65_536);
    assert!(files.len() >= 6, "a 256 KiB target splits ~2.5 MB: {} files", files.len());
    let (last, full) = files.split_last().expect("files");
    for f in full {
        let size = std::fs::metadata(&f.path).expect("stat").len();
        assert_eq!(size, f.bytes);
        assert!(size <= target + target / 8, "{} bytes > target {target}", size);
        assert!(size >= target / 2, "{} bytes: ended far before the target {target}", size);
    }
    assert!(last.bytes <= target + target / 8);
    // The rows read back in order, none lost or repeated.
    let mut sorted = files.clone();
    sorted.sort_by_key(|f| {
        f.path.file_name().map(|n| {
            n.to_string_lossy().trim_start_matches("part-").trim_end_matches(".parquet").parse::<u32>().expect("n")
        })
    });
    let ts: Vec<i64> = sorted.iter().flat_map(|f| ts_of(&read(&f.path))).collect();
    assert_eq!(ts, (0..5 * 65_536).map(|i| T2024 + i).collect::<Vec<_>>());
}

#[test]
fn without_a_target_a_partition_is_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batches: Vec<RecordBatch> = (0..3).map(|i| batch("s", T2024 + i * 65_536, 1, 65_536)).collect();
    let files = write(dir.path(), Partition::Day, NO_LIMIT, &batches);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rows, 3 * 65_536);
}
