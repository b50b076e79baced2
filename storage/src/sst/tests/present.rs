//! Rows without a present cell, as files written before the memtable stopped storing them hold:
//! the raw reads return them, the engine's reads (`read_present`, `read_chunk_present`) drop them.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{ArrayRef, Float64Array, Int64Array};

use super::model::{open, schema};
use crate::run::Run;
use crate::selector::TimeRange;
use crate::sst::{SstWriter, SstWriterOptions};

fn run(series: &str, ts: Vec<i64>, temp: Vec<Option<f64>>, count: Vec<Option<i64>>) -> Run {
    let n = ts.len();
    Run {
        series: series.into(),
        seq: vec![1; n].into(),
        ts: ts.into(),
        columns: vec![
            (1, Arc::new(Float64Array::from(temp)) as ArrayRef),
            (2, Arc::new(Int64Array::from(count)) as ArrayRef),
        ],
    }
}

#[test]
fn rows_without_a_present_cell_are_dropped_by_the_engine_reads_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sst");
    let opts = SstWriterOptions { rows_per_page: 4, ..SstWriterOptions::default() };
    let mut w = SstWriter::create(&path, 1, schema(), opts).unwrap();
    // "a_gappy": no column is dense, rows 20 and 40 have no cell at all (what an old write to two
    // families left in this one).
    w.append(&run("a_gappy", vec![10, 20, 30, 40], vec![Some(1.0), None, None, None], vec![None, None, Some(3), None]))
        .unwrap();
    // "b_dense": temp has a value in every row, so the statistics prove every row real.
    w.append(&run("b_dense", vec![1, 2], vec![Some(1.0), Some(2.0)], vec![None, None])).unwrap();
    // "c_empty": only rows without cells.
    w.append(&run("c_empty", vec![5, 6], vec![None, None], vec![None, None])).unwrap();
    w.finish().unwrap();
    let r = open(&path);

    let gappy = r.get("a_gappy").unwrap();
    assert_eq!(&r.read(&gappy, TimeRange::ALL, &[1]).unwrap().unwrap().ts[..], &[10, 20, 30, 40], "raw read");
    // A projection of one column still drops by every column: row 30 has only `count`.
    let read = r.read_present(&gappy, TimeRange::ALL, &[1]).unwrap().unwrap();
    assert_eq!(&read.ts[..], &[10, 30]);
    let temp: Vec<Option<f64>> = read.column(1).unwrap().as_primitive::<Float64Type>().iter().collect();
    assert_eq!(temp, [Some(1.0), None]);
    let both = r.read_present(&gappy, TimeRange::new(25, 50), &[1, 2]).unwrap().unwrap();
    assert_eq!(&both.ts[..], &[30]);
    assert_eq!(both.column(2).unwrap().as_primitive::<Int64Type>().value(0), 3);

    let dense = r.get("b_dense").unwrap();
    assert_eq!(&r.read_present(&dense, TimeRange::ALL, &[2]).unwrap().unwrap().ts[..], &[1, 2]);

    let empty = r.get("c_empty").unwrap();
    assert!(r.read_present(&empty, TimeRange::ALL, &[1, 2]).unwrap().is_none());
    let chunk = r.chunks(&empty)[0].clone();
    assert!(r.read_chunk_present(&empty, &chunk, &[1]).unwrap().is_empty());
    assert_eq!(r.read_chunk(&empty, &chunk, &[1]).unwrap().len(), 2, "raw chunk read");
}
