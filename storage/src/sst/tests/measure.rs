//! Informative figures, not assertions about speed: file bytes per point for a simple synthetic
//! data set, and write time with and without parallel column encoding. Run with
//! `cargo test -p isobar-storage --release sst::tests::measure -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};

use super::model::schema;
use crate::run::Run;
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{BlockCache, SstReader, SstWriter, SstWriterOptions};

/// `series` weather stations reporting every 10 s: temperature (random walk, 0.1 resolution),
/// a counter, a flag, and a status string on one row in 100.
fn synthetic(series: usize, rows: usize) -> Vec<Run> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..series)
        .map(|s| {
            let mut temp = 15.0;
            let temps: Vec<f64> = (0..rows)
                .map(|_| {
                    temp += (rand() % 5) as f64 * 0.1 - 0.2;
                    (temp * 10.0f64).round() / 10.0
                })
                .collect();
            let n = rows as i64;
            let columns: Vec<(u32, ArrayRef)> = vec![
                (1, Arc::new(Float64Array::from(temps))),
                (2, Arc::new(Int64Array::from_iter_values(0..n))),
                (3, Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 50 != 0))))),
                (5, Arc::new(StringArray::from_iter((0..n).map(|i| (i % 100 == 0).then_some("ok"))))),
            ];
            Run {
                series: format!("station={s:05}").into(),
                ts: (0..n).map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000).collect::<Vec<_>>().into(),
                seq: (0..rows as u64).map(|i| 1000 + i / 64).collect::<Vec<_>>().into(),
                columns,
            }
        })
        .collect()
}

#[test]
#[ignore = "prints figures; run on demand"]
fn bytes_per_point_and_encode_timing() {
    let runs = synthetic(50, 20_000);
    let points: usize = runs.iter().map(Run::points).sum();
    let rows: usize = runs.iter().map(Run::len).sum();
    let dir = tempfile::tempdir().unwrap();
    for parallel in [false, true, false, true] {
        let path = dir.path().join(format!("m{parallel}.sst"));
        let opts = SstWriterOptions { parallel_encode: parallel, ..SstWriterOptions::default() };
        let start = Instant::now();
        let mut w = SstWriter::create(&path, 1, schema(), opts).unwrap();
        for r in &runs {
            w.append(r).unwrap();
        }
        let info = w.finish().unwrap();
        let took = start.elapsed();
        println!(
            "parallel_encode={parallel}: {rows} rows, {points} points, {} bytes, {:.2} bytes/point, {:.2} bytes/row, write {:?} ({:.1} Mrows/s)",
            info.size,
            info.size as f64 / points as f64,
            info.size as f64 / rows as f64,
            took,
            rows as f64 / took.as_secs_f64() / 1e6
        );
    }
    let r = SstReader::open(&dir.path().join("mtrue.sst"), 1, Arc::new(BlockCache::new(64 << 20))).unwrap();
    let start = Instant::now();
    let mut read = 0;
    for e in r.series(&SeriesSelector::All) {
        read += r.read(&e, TimeRange::ALL, &[1, 2, 3, 5]).unwrap().unwrap().len();
    }
    assert_eq!(read, rows);
    println!("read all columns of all rows: {:?} (cold cache)", start.elapsed());
}
