//! Scans cut their output into batches of half to a full `batch_rows`, keep series and time
//! order across batch boundaries, honour `limit` and `Desc`, and join families whose rows differ.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use isobar_storage::{ColumnType, ColumnValues, Db, Options, Order, ScanRequest, SeriesWrite, SyncPolicy, TableSpec};

fn db(dir: &std::path::Path) -> Db {
    let db = Db::open(dir, Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)]).family("b", &[("y", ColumnType::F64)]))
        .unwrap();
    db
}

/// Series `s{i}` gets `rows[i]` rows at ts 0..rows with x = i * 1000 + ts.
fn write_series(db: &Db, rows: &[i64]) {
    for (i, n) in rows.iter().enumerate() {
        let ts: Vec<i64> = (0..*n).collect();
        let x: Vec<f64> = ts.iter().map(|t| (i as i64 * 1000 + t) as f64).collect();
        db.write(SeriesWrite::new("t", format!("s{i}"), ts).column("a", "x", ColumnValues::F64(x))).unwrap();
    }
}

fn rows_of(batches: &[RecordBatch]) -> Vec<(String, i64, Option<f64>)> {
    let mut out = Vec::new();
    for b in batches {
        let s = b.column(0).as_string::<i32>();
        let ts = b.column(1).as_primitive::<TimestampNanosecondType>();
        let x = b.column(2).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            out.push((s.value(i).to_string(), ts.value(i), x.is_valid(i).then(|| x.value(i))));
        }
    }
    out
}

fn expected(rows: &[i64]) -> Vec<(String, i64, Option<f64>)> {
    rows.iter()
        .enumerate()
        .flat_map(|(i, n)| (0..*n).map(move |t| (format!("s{i}"), t, Some((i as i64 * 1000 + t) as f64))))
        .collect()
}

#[test]
fn batches_hold_half_to_full_batch_rows_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let rows = [3, 250, 40, 40, 7, 120, 1, 64];
    write_series(&db, &rows);
    for flushed in [false, true] {
        if flushed {
            db.flush().unwrap();
        }
        let mut req = ScanRequest::new("t").columns(["a.x"]);
        req.batch_rows = 100;
        let batches = db.scan(&req).unwrap();
        let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        let (last, full) = sizes.split_last().unwrap();
        assert!(full.iter().all(|n| (50..=100).contains(n)), "sizes {sizes:?}");
        assert!(*last >= 1 && *last <= 100, "sizes {sizes:?}");
        assert_eq!(rows_of(&batches), expected(&rows), "flushed {flushed}");
    }
}

#[test]
fn limit_and_descending_order_cut_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let rows = [30, 5, 30];
    write_series(&db, &rows);
    let mut req = ScanRequest::new("t").columns(["a.x"]);
    req.batch_rows = 8;
    req.limit = Some(40);
    let got = rows_of(&db.scan(&req).unwrap());
    assert_eq!(got, expected(&rows)[..40].to_vec());
    req.order = Order::Desc;
    req.limit = None;
    let got = rows_of(&db.scan(&req).unwrap());
    let mut want = Vec::new();
    for (i, n) in rows.iter().enumerate() {
        want.extend((0..*n).rev().map(|t| (format!("s{i}"), t, Some((i as i64 * 1000 + t) as f64))));
    }
    assert_eq!(got, want);
}

#[test]
fn families_with_different_rows_are_joined_on_ts() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    db.write(SeriesWrite::new("t", "s", vec![1, 2, 3]).column("a", "x", ColumnValues::F64(vec![1.0, 2.0, 3.0])))
        .unwrap();
    db.write(SeriesWrite::new("t", "s", vec![2, 4]).column("b", "y", ColumnValues::F64(vec![20.0, 40.0]))).unwrap();
    let batches = db.scan(&ScanRequest::new("t").columns(["a.x", "b.y"])).unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    let ts: Vec<i64> = b.column(1).as_primitive::<TimestampNanosecondType>().values().to_vec();
    assert_eq!(ts, [1, 2, 3, 4]);
    let x: Vec<Option<f64>> = b.column(2).as_primitive::<Float64Type>().iter().collect();
    let y: Vec<Option<f64>> = b.column(3).as_primitive::<Float64Type>().iter().collect();
    assert_eq!(x, [Some(1.0), Some(2.0), Some(3.0), None]);
    assert_eq!(y, [None, Some(20.0), None, Some(40.0)]);
}
