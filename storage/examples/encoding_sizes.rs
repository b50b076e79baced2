//! Prints the encoded size, in bytes per value, of every IoT and weather column of the shared
//! workloads (see `/work/shared/workloads/gen.py`), cut into 8192-row pages that hold consecutive
//! series of 400, 1000 or 4320 rows.
//!
//! Also prints each column's decode rate for one page: the fastest of 300 decodes, which stays
//! meaningful on a machine busy with other work (criterion's mean does not).
//!
//! Run: `cargo run --release -p isobar-storage --example encoding_sizes [-- <zstd level>]`

#[path = "../benches/support/workload.rs"]
mod workload;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array};
use isobar_storage::ColumnType;
use isobar_storage::encoding::{IntKind, decode_array, decode_ints, encode_array, encode_ints};
use workload::{IOT_FLOATS, PAGE_ROWS, WEATHER};

const PAGES: usize = 8;
const SERIES_LENS: [usize; 3] = [400, 1000, 4320];

/// Bytes per value of `values` encoded page by page.
fn array_cost(values: ArrayRef, level: i32) -> f64 {
    let mut total = 0;
    for p in 0..PAGES {
        let mut out = Vec::new();
        let page = values.slice(p * PAGE_ROWS, PAGE_ROWS);
        if let Err(e) = encode_array(page.as_ref(), &mut out, level) {
            panic!("encoding failed: {e}");
        }
        total += out.len();
    }
    total as f64 / (PAGES * PAGE_ROWS) as f64
}

/// Bytes per value of timestamps encoded page by page.
fn ts_cost(ts: &[i64], level: i32) -> f64 {
    let total: usize = ts
        .chunks(PAGE_ROWS)
        .map(|page| {
            let mut out = Vec::new();
            encode_ints(page, IntKind::Timestamp, &mut out, level);
            out.len()
        })
        .sum();
    total as f64 / ts.len() as f64
}

/// Millions of values per second encoding and decoding the first page of `values`: the fastest
/// of 300 runs each.
fn rates(values: &ArrayRef, ty: ColumnType, level: i32) -> [f64; 2] {
    let page = values.slice(0, PAGE_ROWS);
    let mut bytes = Vec::new();
    let encode = fastest(|| {
        bytes.clear();
        encode_array(page.as_ref(), &mut bytes, level).map_or(0, |()| page.len())
    });
    let decode = fastest(|| decode_array(&bytes, ty, PAGE_ROWS).map(|a| a.len()).unwrap_or(0));
    [encode, decode]
}

/// Millions of values per second of `run` (which returns the number of values it handled): the
/// fastest of 300 runs.
fn fastest(mut run: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    for i in 0..320 {
        let start = std::time::Instant::now();
        let n = std::hint::black_box(run());
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(n, PAGE_ROWS);
        if i >= 20 {
            best = best.min(secs);
        }
    }
    PAGE_ROWS as f64 / best / 1e6
}

fn floats(v: Vec<f64>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}

fn row(name: &str, costs: &[f64]) {
    let cells: Vec<String> = costs.iter().map(|c| format!("{c:>10.4}")).collect();
    println!("{name:<28}{}", cells.join(""));
}

fn main() {
    let level = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let rows = PAGES * PAGE_ROWS;
    println!("bytes per value, {PAGES} pages of {PAGE_ROWS} rows, zstd level {level}");
    let header: Vec<String> = SERIES_LENS.iter().map(|l| format!("{:>10}", format!("len {l}"))).collect();
    println!("{:<28}{}", "column \\ rows per series", header.join(""));

    println!("-- iot (10 s interval)");
    let mut iot = vec![Vec::new(); IOT_FLOATS.len() + 1];
    let mut ts = Vec::new();
    for &len in &SERIES_LENS {
        for (i, (_, walk)) in IOT_FLOATS.iter().enumerate() {
            iot[i].push(array_cost(floats(workload::iot_float(walk, 100 + i as u64, rows, len)), level));
        }
        let status = Arc::new(Int64Array::from(workload::iot_status(99, rows, len)));
        iot[IOT_FLOATS.len()].push(array_cost(status, level));
        ts.push(ts_cost(&workload::timestamps(rows, len, 10), level));
    }
    for (i, (name, _)) in IOT_FLOATS.iter().enumerate() {
        row(name, &iot[i]);
    }
    row("status", &iot[IOT_FLOATS.len()]);
    let mean = |cols: &[Vec<f64>], j: usize| cols.iter().map(|c| c[j]).sum::<f64>() / cols.len() as f64;
    let idx = 0..SERIES_LENS.len();
    row("ts (per row)", &ts);
    row("IoT mean of 10 columns", &idx.clone().map(|j| mean(&iot, j)).collect::<Vec<_>>());
    // Two families (readings, diagnostics), each with its own ts column.
    let with_ts: Vec<f64> = idx.clone().map(|j| mean(&iot, j) + 2.0 * ts[j] / 10.0).collect();
    row("IoT incl. 2 ts columns", &with_ts);

    println!("-- weather (60 s interval)");
    let mut weather = vec![Vec::new(); WEATHER.len()];
    let mut wts = Vec::new();
    for &len in &SERIES_LENS {
        for (i, col) in workload::weather(7, rows, len).into_iter().enumerate() {
            weather[i].push(array_cost(floats(col), level));
        }
        wts.push(ts_cost(&workload::timestamps(rows, len, 60), level));
    }
    for (i, name) in WEATHER.iter().enumerate() {
        row(name, &weather[i]);
    }
    row("ts (per row)", &wts);
    row("weather mean of 6 columns", &idx.clone().map(|j| mean(&weather, j)).collect::<Vec<_>>());
    let with_ts: Vec<f64> = idx.map(|j| mean(&weather, j) + wts[j] / 6.0).collect();
    row("weather incl. ts column", &with_ts);

    println!("-- million values/s, fastest of 300 runs on one page (len 1000)    encode    decode");
    let len = 1000;
    for (i, (name, walk)) in IOT_FLOATS.iter().enumerate() {
        let a = floats(workload::iot_float(walk, 100 + i as u64, PAGE_ROWS, len));
        row(name, &rates(&a, ColumnType::F64, level));
    }
    let status: ArrayRef = Arc::new(Int64Array::from(workload::iot_status(99, PAGE_ROWS, len)));
    row("status", &rates(&status, ColumnType::I64, level));
    for (name, col) in WEATHER.iter().zip(workload::weather(7, PAGE_ROWS, len)) {
        row(name, &rates(&floats(col), ColumnType::F64, level));
    }
    let ts = workload::timestamps(PAGE_ROWS, len, 10);
    let mut bytes = Vec::new();
    let encode = fastest(|| {
        bytes.clear();
        encode_ints(&ts, IntKind::Timestamp, &mut bytes, level);
        ts.len()
    });
    let decode = fastest(|| decode_ints(&bytes, PAGE_ROWS).map(|v| v.len()).unwrap_or(0));
    row("ts", &[encode, decode]);
}
