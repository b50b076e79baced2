//! `ScanRequest::limit_per_series`: the first rows of each series in scan order, whatever the
//! batch and span sizes and however the data is spread over memtable and files, with the total
//! `limit` counted after it. Checked against filtering the unlimited scan.

use arrow_array::{Array, RecordBatch, StringArray, TimestampNanosecondArray};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, Order, ScanRequest, SeriesWrite, SyncPolicy, TableSpec};

/// `(series, ts)` of every row of `batches`, in order.
fn rows(batches: &[RecordBatch]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for b in batches {
        let keys = b.column(0).as_any().downcast_ref::<StringArray>().expect("series is utf8");
        let ts = b.column(1).as_any().downcast_ref::<TimestampNanosecondArray>().expect("ts");
        out.extend((0..b.num_rows()).map(|i| (keys.value(i).to_owned(), ts.value(i))));
    }
    out
}

/// The first `per_series` rows of each series of `all`, then the first `total` of those.
fn expected(all: &[(String, i64)], per_series: Option<usize>, total: Option<usize>) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    let mut current: Option<&str> = None;
    let mut taken = 0;
    for (series, ts) in all {
        if current != Some(series.as_str()) {
            current = Some(series);
            taken = 0;
        }
        if per_series.is_some_and(|max| taken >= max) {
            continue;
        }
        taken += 1;
        out.push((series.clone(), *ts));
    }
    out.truncate(total.unwrap_or(usize::MAX));
    out
}

/// Series `a` (40 rows, half flushed to a file), `b` (3 rows), `c` (1 row), `d` (25 rows).
fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).expect("opens");
    db.create_table(TableSpec::new("t").family("f", &[("x", ColumnType::F64)])).expect("table");
    let write = |series: &str, ts: Vec<i64>| {
        let values = ColumnValues::F64(ts.iter().map(|t| *t as f64).collect());
        db.write(SeriesWrite::new("t", series, ts).column("f", "x", values)).expect("write");
    };
    write("a", (0..20).map(|i| i * 2).collect());
    write("d", (0..25).collect());
    db.flush().expect("flush");
    write("a", (0..20).map(|i| i * 2 + 1).collect());
    write("b", vec![5, 6, 7]);
    write("c", vec![9]);
    (dir, db)
}

#[test]
fn per_series_limit_holds_across_batches_spans_and_sources() {
    let (_dir, db) = db();
    for order in [Order::Asc, Order::Desc] {
        let all = rows(&db.scan(&ScanRequest { order, ..ScanRequest::new("t") }).expect("scan"));
        assert_eq!(all.len(), 69);
        for per_series in [None, Some(0), Some(1), Some(2), Some(3), Some(21), Some(100)] {
            for total in [None, Some(1), Some(4), Some(30)] {
                for batch_rows in [1, 2, 7, 8192] {
                    for span_rows in [None, Some(1), Some(3)] {
                        let request = ScanRequest {
                            limit: total,
                            limit_per_series: per_series,
                            order,
                            batch_rows,
                            ..ScanRequest::new("t")
                        };
                        let mut scan = db.snapshot().scan(&request).expect("scan");
                        if let Some(w) = span_rows {
                            scan = scan.with_span_rows(w);
                        }
                        let batches: Vec<RecordBatch> = scan.collect::<Result<_, _>>().expect("batches");
                        assert!(batches.iter().all(|b| b.num_rows() <= batch_rows), "batches stay within batch_rows");
                        assert_eq!(
                            rows(&batches),
                            expected(&all, per_series, total),
                            "{order:?} per_series {per_series:?} total {total:?} batch_rows {batch_rows} span {span_rows:?}"
                        );
                    }
                }
            }
        }
    }
    db.close().expect("close");
}

#[test]
fn per_series_limit_takes_the_first_rows_in_scan_order() {
    let (_dir, db) = db();
    let request = ScanRequest { limit_per_series: Some(2), batch_rows: 3, ..ScanRequest::new("t") };
    let asc = rows(&db.scan(&request).expect("scan"));
    let want: Vec<(String, i64)> =
        [("a", 0), ("a", 1), ("b", 5), ("b", 6), ("c", 9), ("d", 0), ("d", 1)].map(|(s, t)| (s.into(), t)).into();
    assert_eq!(asc, want);
    let desc = rows(&db.scan(&ScanRequest { order: Order::Desc, ..request.clone() }).expect("scan"));
    let want: Vec<(String, i64)> =
        [("a", 39), ("a", 38), ("b", 7), ("b", 6), ("c", 9), ("d", 24), ("d", 23)].map(|(s, t)| (s.into(), t)).into();
    assert_eq!(desc, want);
    let three = rows(&db.scan(&ScanRequest { limit: Some(3), ..request }).expect("scan"));
    assert_eq!(three, [("a".to_owned(), 0), ("a".to_owned(), 1), ("b".to_owned(), 5)]);
    db.close().expect("close");
}
