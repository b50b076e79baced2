//! Encode and decode throughput (values per second) of the column encodings on 8192-row pages
//! shaped like the shared workloads: several series of ~1000 rows, concatenated.
//!
//! Run: `cargo bench -p isobar-storage --bench encoding -- --warm-up-time 1 --measurement-time 2`

#[path = "support/workload.rs"]
mod workload;

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use criterion::{Criterion, Throughput};
use isobar_storage::ColumnType;
use isobar_storage::encoding::{IntKind, decode_array, decode_ints, encode_array, encode_ints};
use workload::{IOT_FLOATS, PAGE_ROWS, Rng};

const LEVEL: i32 = 3;
const SERIES_LEN: usize = 1000;

fn columns() -> Vec<(&'static str, ColumnType, ArrayRef)> {
    let rows = PAGE_ROWS;
    let lat = workload::iot_float(&IOT_FLOATS[0].1, 1, rows, SERIES_LEN);
    let load = workload::iot_float(&IOT_FLOATS[7].1, 2, rows, SERIES_LEN);
    let elevation = workload::iot_float(&IOT_FLOATS[2].1, 6, rows, SERIES_LEN);
    let weather = workload::weather(3, rows, SERIES_LEN);
    let status = workload::iot_status(4, rows, SERIES_LEN);
    let mut rng = Rng::new(5);
    let flags: Vec<bool> = (0..rows).map(|_| rng.unit() < 0.1).collect();
    let drivers = ["Albert", "Derek", "Walker", "Trish", "Rodney", "Seth", "Andy", "Zoey"];
    let names: Vec<&str> = (0..rows).map(|i| drivers[(i / SERIES_LEN) % drivers.len()]).collect();
    vec![
        ("iot_latitude", ColumnType::F64, Arc::new(Float64Array::from(lat))),
        ("iot_load", ColumnType::F64, Arc::new(Float64Array::from(load))),
        ("iot_elevation", ColumnType::F64, Arc::new(Float64Array::from(elevation))),
        ("weather_temperature", ColumnType::F64, Arc::new(Float64Array::from(weather[0].clone()))),
        ("weather_humidity", ColumnType::F64, Arc::new(Float64Array::from(weather[1].clone()))),
        ("int_status", ColumnType::I64, Arc::new(Int64Array::from(status))),
        ("bool_flags", ColumnType::Bool, Arc::new(BooleanArray::from(flags))),
        ("string_dict", ColumnType::String, Arc::new(StringArray::from(names))),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("encoding");
    g.throughput(Throughput::Elements(PAGE_ROWS as u64));

    let ts = workload::timestamps(PAGE_ROWS, SERIES_LEN, 10);
    let mut ts_bytes = Vec::new();
    encode_ints(&ts, IntKind::Timestamp, &mut ts_bytes, LEVEL);
    g.bench_function("encode/timestamps_10s", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            encode_ints(black_box(&ts), IntKind::Timestamp, &mut out, LEVEL);
            out
        })
    });
    g.bench_function("decode/timestamps_10s", |b| {
        b.iter(|| decode_ints(black_box(&ts_bytes), PAGE_ROWS).expect("decode"))
    });

    for (name, ty, array) in columns() {
        let mut bytes = Vec::new();
        encode_array(array.as_ref(), &mut bytes, LEVEL).expect("encode");
        g.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                encode_array(black_box(array.as_ref()), &mut out, LEVEL).expect("encode");
                out
            })
        });
        g.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode_array(black_box(&bytes), ty, PAGE_ROWS).expect("decode"))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
