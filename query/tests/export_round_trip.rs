//! Export writes Hive-partitioned Parquet that reads back (with the `parquet` crate) exactly as
//! a scan of the same snapshot, with the promised types and encodings; and an export taken while
//! a writer keeps going holds every batch acknowledged before it started, and never half a batch.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arrow_array::RecordBatch;
use common::{V, rows};
use isobar_query::{Error, ExportQuery, export};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesWrite, SyncPolicy, TableSpec};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding};

const HOUR: i64 = 3_600_000_000_000;
const T0: i64 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for part in std::fs::read_dir(dir).unwrap() {
        let part = part.unwrap().path();
        for f in std::fs::read_dir(&part).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

fn read_back(files: &[PathBuf]) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(f).unwrap()).unwrap().build().unwrap();
        out.extend(reader.map(Result::unwrap));
    }
    out
}

fn sample_db(dir: &Path) -> Db {
    let db = Db::open(dir, Options { sync: SyncPolicy::None, rows_per_page: 64, ..Options::default() }).unwrap();
    db.create_table(
        TableSpec::new("trucks")
            .family("gps", &[("lat", ColumnType::F64), ("moving", ColumnType::Bool)])
            .family("diag", &[("code", ColumnType::I64), ("msg", ColumnType::String)]),
    )
    .unwrap();
    for s in 0..5 {
        let ts: Vec<i64> = (0..150).map(|i| T0 + i * HOUR / 2 + s).collect(); // about three days
        let n = ts.len();
        db.write(
            SeriesWrite::new("trucks", format!("truck_{s}"), ts.clone())
                .column("gps", "lat", ColumnValues::F64((0..n).map(|i| 47.0 + i as f64 * 0.001).collect()))
                .sparse_column(
                    "gps",
                    "moving",
                    ColumnValues::Bool((0..n).map(|i| i % 3 == 0).collect()),
                    (0..n).map(|i| i % 5 != 0).collect(),
                ),
        )
        .unwrap();
        let every_other: Vec<i64> = ts.iter().step_by(2).copied().collect();
        let m = every_other.len();
        db.write(
            SeriesWrite::new("trucks", format!("truck_{s}"), every_other)
                .column("diag", "code", ColumnValues::I64((0..m).map(|i| (i % 4) as i64).collect()))
                .column("diag", "msg", ColumnValues::String((0..m).map(|i| format!("m{}", i % 7)).collect())),
        )
        .unwrap();
        if s == 2 {
            db.flush().unwrap();
        }
    }
    db
}

#[test]
fn export_reads_back_equal_to_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let scan = rows(&db.scan(&ScanRequest::new("trucks")).unwrap());
    let dest = dir.path().join("out");
    let mut reports = Vec::new();
    let summary = export(&db, &ExportQuery::new("trucks"), &dest, &mut |p| reports.push(p)).unwrap();
    assert_eq!(summary.rows as usize, scan.len());
    assert!(reports.windows(2).all(|w| w[0].rows <= w[1].rows), "progress never goes back");
    assert_eq!(reports.last().unwrap().rows, summary.rows);
    assert_eq!(reports.last().unwrap().files, summary.files.len() as u64);

    let files = parquet_files(&dest);
    let mut dates = std::collections::BTreeSet::new();
    for f in &files {
        let name = f.strip_prefix(&dest).unwrap().display().to_string();
        let (date, part) = name.split_once('/').unwrap();
        let n = part.strip_prefix("part-").and_then(|p| p.strip_suffix(".parquet"));
        assert!(n.is_some_and(|n| n.parse::<u32>().is_ok()), "{name}: no temporary file is left");
        dates.insert(date.to_string());
    }
    assert_eq!(
        dates.into_iter().collect::<Vec<_>>(),
        ["date=2024-01-01", "date=2024-01-02", "date=2024-01-03", "date=2024-01-04"]
    );
    assert_eq!(summary.files.len(), files.len());
    let back = read_back(&files);
    let mut got = rows(&back);
    got.sort();
    let mut want = scan.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(matches!(&got[0][0], V::S(s) if s == "truck_0"));

    let schema = back[0].schema();
    let types: Vec<String> = schema.fields().iter().map(|f| format!("{}:{}", f.name(), f.data_type())).collect();
    assert_eq!(
        types,
        [
            "series:Utf8",
            "ts:Timestamp(ns, \"UTC\")",
            "gps.lat:Float64",
            "gps.moving:Boolean",
            "diag.code:Int64",
            "diag.msg:Utf8"
        ]
    );
    let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&files[0]).unwrap()).unwrap().metadata().clone();
    let rg = meta.row_group(0);
    let encodings = |i: usize| rg.column(i).encodings().collect::<Vec<_>>();
    assert!(rg.column(0).dictionary_page_offset().is_some(), "series is dictionary-encoded");
    assert!(encodings(1).contains(&Encoding::DELTA_BINARY_PACKED), "ts: {:?}", encodings(1));
    assert!(encodings(2).contains(&Encoding::BYTE_STREAM_SPLIT), "floats: {:?}", encodings(2));
    assert!(rg.column(2).dictionary_page_offset().is_none(), "no dictionary on floats");
    assert!(matches!(rg.column(2).compression(), Compression::ZSTD(_)));
}

#[test]
fn export_refuses_a_non_empty_destination_and_bad_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    std::fs::write(dir.path().join("out-file"), b"x").unwrap();
    let err = export(&db, &ExportQuery::new("trucks"), dir.path(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::DestinationNotEmpty { .. }), "{err}");
    let q = ExportQuery { range: isobar_storage::TimeRange::new(5, 5), ..ExportQuery::new("trucks") };
    let err = export(&db, &q, &dir.path().join("new"), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "empty time range: from 5 must be before to 5 (nanoseconds since the epoch)");
}

#[test]
fn export_during_writes_holds_whole_acknowledged_batches() {
    const SERIES: usize = 8;
    const ROWS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { sync: SyncPolicy::None, memtable_size: 256 << 10, ..Options::default() };
    let db = Arc::new(Db::open(dir.path(), opts).unwrap());
    db.create_table(TableSpec::new("t").family("v", &[("batch", ColumnType::I64), ("x", ColumnType::F64)])).unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, acked, stop) = (Arc::clone(&db), Arc::clone(&acked), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut b = 0i64;
            while !stop.load(Ordering::Acquire) && b < 20_000 {
                let mut batch = isobar_storage::WriteBatch::new();
                for s in 0..SERIES {
                    let ts: Vec<i64> = (0..ROWS as i64).map(|i| T0 + (b * ROWS as i64 + i) * 1_000_000_000).collect();
                    batch.push(
                        SeriesWrite::new("t", format!("s{s}"), ts)
                            .column("v", "batch", ColumnValues::I64(vec![b; ROWS]))
                            .column("v", "x", ColumnValues::F64(vec![b as f64; ROWS])),
                    );
                }
                db.write(batch).unwrap();
                b += 1;
                acked.store(b as u64, Ordering::Release);
            }
        })
    };
    while acked.load(Ordering::Acquire) < 200 {
        std::thread::yield_now();
    }
    let before = acked.load(Ordering::Acquire);
    let dest = dir.path().join("out");
    let summary = export(&db, &ExportQuery::new("t"), &dest, &mut |_| {}).unwrap();
    let after = acked.load(Ordering::Acquire);
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    let mut per_batch = std::collections::BTreeMap::<i64, usize>::new();
    for row in rows(&read_back(&parquet_files(&dest))) {
        let V::I(b) = row[2] else { panic!("batch column is null: {row:?}") };
        *per_batch.entry(b).or_default() += 1;
    }
    for b in 0..before as i64 {
        assert_eq!(per_batch.get(&b), Some(&(SERIES * ROWS)), "batch {b} acknowledged before the export started");
    }
    for (b, n) in &per_batch {
        assert_eq!(*n, SERIES * ROWS, "batch {b} is cut");
    }
    assert!(per_batch.len() as u64 >= before && summary.rows as usize == per_batch.len() * SERIES * ROWS);
    assert!(after >= before);
}

#[test]
fn export_of_a_selection_equals_the_scan_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let selectors = [
        isobar_storage::SeriesSelector::Range { start: Some("truck_1".into()), end: Some("truck_3".into()) },
        isobar_storage::SeriesSelector::Prefix("truck_4".into()),
        isobar_storage::SeriesSelector::Exact("truck_0".into()),
    ];
    for (i, selector) in selectors.into_iter().enumerate() {
        let range = isobar_storage::TimeRange::new(T0 + 10 * HOUR, T0 + 40 * HOUR);
        let columns = vec!["diag.*".to_string(), "gps.lat".to_string()];
        let scan = ScanRequest::new("trucks").selector(selector.clone()).range(range).columns(columns.clone());
        let mut want = rows(&db.scan(&scan).unwrap());
        let q = ExportQuery { selector, range, columns, ..ExportQuery::new("trucks") };
        let dest = dir.path().join(format!("out{i}"));
        export(&db, &q, &dest, &mut |_| {}).unwrap();
        let mut got = rows(&read_back(&parquet_files(&dest)));
        got.sort();
        want.sort();
        assert!(!want.is_empty());
        assert_eq!(got, want, "selection {i}");
    }
}

/// `file_rows` (`export --max-rows-per-file`) is a ceiling: a scan batch or run of one day is
/// split across files so that none holds more, over several batches and row groups; only the
/// last file of a day (per export worker) may be smaller.
#[test]
fn export_files_hold_at_most_file_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let scan_rows = rows(&db.scan(&ScanRequest::new("trucks")).unwrap()).len();
    let dest = dir.path().join("out");
    const LIMIT: u64 = 35;
    let query = ExportQuery { row_group_rows: 8, file_rows: LIMIT, ..ExportQuery::new("trucks") };
    let summary = export(&db, &query, &dest, &mut |_| {}).unwrap();
    assert_eq!(summary.rows as usize, scan_rows);
    let files = parquet_files(&dest);
    assert_eq!(files.len(), summary.files.len());
    let mut total = 0;
    let mut full = 0;
    for f in &files {
        let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(f).unwrap()).unwrap().metadata().clone();
        let n = meta.file_metadata().num_rows() as u64;
        assert!(n <= LIMIT, "{} holds {n} rows, more than {LIMIT}", f.display());
        assert!(n > 0, "{} is empty", f.display());
        assert!(meta.num_row_groups() >= n.div_ceil(8) as usize, "row groups of 8 rows");
        full += usize::from(n == LIMIT);
        total += n;
    }
    assert_eq!(total as usize, scan_rows);
    assert!(full > 0, "files are filled up to the limit, not cut short: none of {} is full", files.len());
    assert_eq!(read_back(&files).iter().map(RecordBatch::num_rows).sum::<usize>(), scan_rows);
}

/// An export that would write more than `max_bytes` stops with `ExportQuota` and leaves its
/// destination empty (its partial files are removed); the same export with room succeeds.
#[test]
fn export_past_its_byte_quota_stops_and_removes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let full = export(&db, &ExportQuery::new("trucks"), &dir.path().join("full"), &mut |_| {}).unwrap();
    assert!(full.bytes > 1000, "the sample exports to more than a kilobyte: {}", full.bytes);
    let dest = dir.path().join("capped");
    let query = ExportQuery { max_bytes: Some(full.bytes / 2), ..ExportQuery::new("trucks") };
    let err = export(&db, &query, &dest, &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::ExportQuota { limit } if limit == full.bytes / 2), "{err}");
    assert!(err.to_string().contains("server.export_max_bytes"), "names the key: {err}");
    let left: Vec<_> = std::fs::read_dir(&dest).unwrap().collect();
    assert!(left.is_empty(), "partial files removed: {left:?}");
    let roomy = ExportQuery { max_bytes: Some(full.bytes * 2), ..ExportQuery::new("trucks") };
    assert_eq!(export(&db, &roomy, &dir.path().join("roomy"), &mut |_| {}).unwrap().rows, full.rows);
}
