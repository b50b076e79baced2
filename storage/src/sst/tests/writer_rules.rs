//! What the writer refuses: rows out of order, unknown columns, wrong types, bad options.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array};

use super::model::{open, schema};
use crate::run::Run;
use crate::selector::TimeRange;
use crate::sst::{ColumnSchema, Error, SstWriter, SstWriterOptions};

fn run(series: &str, ts: Vec<i64>) -> Run {
    let n = ts.len();
    Run { series: series.into(), seq: vec![1; n].into(), ts: ts.into(), columns: vec![] }
}

fn writer(dir: &tempfile::TempDir) -> SstWriter {
    let opts = SstWriterOptions { rows_per_page: 2, ..SstWriterOptions::default() };
    SstWriter::create(&dir.path().join("w.sst"), 1, schema(), opts).unwrap()
}

#[test]
fn a_series_may_continue_with_later_rows_but_never_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir);
    w.append(&run("b", vec![1, 2, 3])).unwrap();
    w.append(&run("b", vec![4])).unwrap();
    let err = w.append(&run("b", vec![4, 5])).unwrap_err();
    assert!(matches!(&err, Error::OutOfOrder { series, ts: 4, previous_ts: 4, .. } if series == "b"), "{err}");
    let err = w.append(&run("a", vec![9])).unwrap_err();
    assert!(matches!(&err, Error::OutOfOrder { previous_series, .. } if previous_series == "b"), "{err}");
    w.append(&run("c", vec![0])).unwrap();
    w.append(&run("c", vec![])).unwrap();
    let info = w.finish().unwrap();
    assert_eq!((info.rows, info.series, info.pages), (5, 2, 3));
    let r = open(&dir.path().join("w.sst"));
    let b = r.get("b").unwrap();
    assert_eq!(r.chunks(&b).len(), 2, "b fills page 0 and half of page 1 in one chunk each");
    assert_eq!(&r.read(&b, TimeRange::ALL, &[]).unwrap().unwrap().ts[..], &[1, 2, 3, 4]);
}

#[test]
fn unknown_columns_wrong_types_and_broken_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir);
    let ints: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
    let mut r = run("a", vec![1]);
    r.columns = vec![(42, ints.clone())];
    assert!(matches!(w.append(&r), Err(Error::UnknownColumn { column: 42, .. })));
    r.columns = vec![(1, ints)];
    assert!(matches!(w.append(&r), Err(Error::TypeMismatch { column: 1, .. })));
    r.columns = vec![(1, floats)];
    r.ts = vec![1, 2].into();
    assert!(matches!(w.append(&r), Err(Error::InvalidRun { .. })));
    w.abandon().unwrap();
    assert!(!dir.path().join("w.sst").exists());
}

#[test]
fn bad_options_and_duplicate_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.sst");
    let opts = SstWriterOptions { rows_per_page: 0, ..SstWriterOptions::default() };
    assert!(matches!(SstWriter::create(&path, 1, schema(), opts), Err(Error::BadPageSize { .. })));
    let mut cols = schema();
    cols.push(ColumnSchema { id: 1, name: "again".into(), ty: crate::ColumnType::Bool });
    assert!(matches!(
        SstWriter::create(&path, 1, cols, SstWriterOptions::default()),
        Err(Error::DuplicateColumn { column: 1, .. })
    ));
}

#[test]
fn an_empty_file_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let info = writer(&dir).finish().unwrap();
    assert_eq!((info.rows, info.min_ts, info.max_ts), (0, i64::MAX, i64::MIN));
    let r = open(&dir.path().join("w.sst"));
    assert_eq!(r.info(), &info);
    assert!(r.get("a").is_none());
    assert!(r.verify().is_ok());
}

#[test]
fn readers_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<crate::sst::SstReader>();
    shareable::<crate::sst::BlockCache>();
}

#[test]
fn a_partial_page_does_not_keep_the_callers_arrays_alive() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(&dir); // 2 rows per page
    let big = Int64Array::from_iter_values(0..1001);
    let values = big.values().inner().clone();
    let mut r = run("a", (0..1001).collect());
    r.columns = vec![(2, Arc::new(big) as ArrayRef)];
    w.append(&r).unwrap();
    assert_eq!(values.strong_count(), 2, "ours and the run's");
    drop(r);
    // The last row waits in the page buffer as its own copy, not as a slice of the run's buffer.
    assert_eq!(values.strong_count(), 1);
    let info = w.finish().unwrap();
    assert_eq!(info.rows, 1001);
}
