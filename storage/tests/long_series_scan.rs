//! A scan reads a long series in bounded windows: what it holds at once does not grow with the
//! length of the series, and cutting a series into windows changes nothing in the answer (merge
//! across overlapping files and memtables, tombstones, two families joined on `ts`, `Desc`,
//! `limit`).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Options, Order, SPAN_ROWS, ScanRequest, SeriesSelector, SeriesWrite, SyncPolicy,
    TableSpec, TimeRange,
};

/// Rows per SSTable page (so a chunk holds at most this many rows of a series).
const PAGE_ROWS: usize = 1024;

fn db(dir: &std::path::Path) -> Db {
    let opts = Options { sync: SyncPolicy::None, rows_per_page: PAGE_ROWS, ..Options::default() };
    let db = Db::open(dir, opts).unwrap();
    db.create_table(
        TableSpec::new("t")
            .family("a", &[("x", ColumnType::F64), ("z", ColumnType::F64)])
            .family("b", &[("y", ColumnType::F64)]),
    )
    .unwrap();
    db
}

fn write_x(db: &Db, series: &str, ts: impl Iterator<Item = i64>, value: impl Fn(i64) -> f64) {
    let ts: Vec<i64> = ts.collect();
    let x = ts.iter().map(|t| value(*t)).collect();
    db.write(SeriesWrite::new("t", series, ts).column("a", "x", ColumnValues::F64(x))).unwrap();
}

/// Every row of every batch: (series, ts, then each value column).
fn rows_of(batches: &[RecordBatch]) -> Vec<(String, i64, Vec<Option<f64>>)> {
    let mut out = Vec::new();
    for b in batches {
        let s = b.column(0).as_string::<i32>();
        let ts = b.column(1).as_primitive::<TimestampNanosecondType>();
        for i in 0..b.num_rows() {
            let values = (2..b.num_columns())
                .map(|c| {
                    let col = b.column(c).as_primitive::<Float64Type>();
                    col.is_valid(i).then(|| col.value(i))
                })
                .collect();
            out.push((s.value(i).to_string(), ts.value(i), values));
        }
    }
    out
}

/// Scans `rows` rows of one series (three overlapping flushed files plus a memtable) with
/// 1,000-row batches; returns the peak rows held and checks every batch and the row count.
fn peak_for(rows: i64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    write_x(&db, "long", 0..rows / 2, |t| t as f64);
    db.flush().unwrap();
    write_x(&db, "long", rows / 4..rows, |t| t as f64);
    db.flush().unwrap();
    write_x(&db, "long", (0..rows).step_by(7), |t| -(t as f64));
    db.flush().unwrap();
    write_x(&db, "long", (0..rows).step_by(1000), |t| t as f64 + 0.5);
    let mut req = ScanRequest::new("t").columns(["a.x"]);
    req.batch_rows = 1000;
    let mut scan = db.snapshot().scan(&req).unwrap();
    let mut next_ts = 0;
    for batch in scan.by_ref() {
        let batch = batch.unwrap();
        assert!((1..=1000).contains(&batch.num_rows()), "batch of {} rows", batch.num_rows());
        let ts = batch.column(1).as_primitive::<TimestampNanosecondType>();
        let x = batch.column(2).as_primitive::<Float64Type>();
        for i in 0..batch.num_rows() {
            let t = ts.value(i);
            assert_eq!(t, next_ts, "rows in time order, none missing");
            let want = if t % 1000 == 0 {
                t as f64 + 0.5
            } else if t % 7 == 0 {
                -(t as f64)
            } else {
                t as f64
            };
            assert_eq!(x.value(i), want, "newest write of ts {t}");
            next_ts += 1;
        }
    }
    assert_eq!(next_ts, rows);
    scan.peak_rows_held()
}

#[test]
fn scan_of_one_long_series_holds_a_bounded_number_of_rows() {
    // Two windows (the one being output and the next) of SPAN_ROWS rows plus a chunk per
    // source each (three files and a memtable), plus the batch being assembled.
    let bound = 2 * (SPAN_ROWS + 5 * PAGE_ROWS) + 1000;
    let short = peak_for(60_000);
    let long = peak_for(240_000);
    assert!(short <= bound, "60k rows: held {short} at once, bound {bound}");
    assert!(long <= bound, "240k rows: held {long} at once, bound {bound}");
    assert!(long >= 1000, "the counter counts what was read ({long})");
}

/// One long series and one short one with overlapping files, a memtable, a tombstone and a
/// second family at other times; scanned whole and in windows of many sizes.
#[test]
fn windows_do_not_change_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    write_x(&db, "s", 0..3000, |t| t as f64);
    write_x(&db, "r", 0..10, |t| t as f64 + 0.25);
    db.flush().unwrap();
    let z: Vec<f64> = (1500..4500).map(|t| t as f64 * 2.0).collect();
    db.write(SeriesWrite::new("t", "s", (1500..4500).collect()).column("a", "z", ColumnValues::F64(z))).unwrap();
    write_x(&db, "s", (1000..2000).step_by(2), |t| -(t as f64));
    db.flush().unwrap();
    let y: Vec<f64> = (0..5000).step_by(3).map(|t| t as f64 * 3.0).collect();
    db.write(SeriesWrite::new("t", "s", (0..5000).step_by(3).collect()).column("b", "y", ColumnValues::F64(y)))
        .unwrap();
    db.flush().unwrap();
    db.delete("t", Some("a"), SeriesSelector::Exact("s".into()), TimeRange::new(2500, 2700)).unwrap();
    write_x(&db, "s", 2600..2650, |t| t as f64 + 0.75);
    write_x(&db, "s", (4000..4200).step_by(5), |t| t as f64 + 0.5);

    let snapshot = db.snapshot();
    for order in [Order::Asc, Order::Desc] {
        for limit in [None, Some(2345)] {
            for range in [TimeRange::ALL, TimeRange::new(1234, 4100)] {
                let mut req = ScanRequest::new("t").columns(["a.x", "b.y", "a.z"]).range(range);
                req.order = order;
                req.limit = limit;
                req.batch_rows = 64;
                let whole: Vec<RecordBatch> =
                    snapshot.scan(&req).unwrap().with_span_rows(usize::MAX).collect::<Result<_, _>>().unwrap();
                let whole = rows_of(&whole);
                assert!(whole.len() > 1000, "{} rows", whole.len());
                for window in [1, 7, 100, 999] {
                    let mut scan = snapshot.scan(&req).unwrap().with_span_rows(window);
                    let got: Vec<RecordBatch> = scan.by_ref().collect::<Result<_, _>>().unwrap();
                    assert_eq!(rows_of(&got), whole, "window {window}, {order:?}, limit {limit:?}, {range:?}");
                    assert!(
                        scan.peak_rows_held() <= 2 * (window + 4 * PAGE_ROWS) + 64,
                        "window {window}: held {}",
                        scan.peak_rows_held()
                    );
                }
            }
        }
    }
}
