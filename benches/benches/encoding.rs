//! Encode and decode throughput (values per second) of the column encodings on 8192-row pages
//! of the shared workloads (`isobar-workload`): several series of 1000 rows, concatenated.
//!
//! Run: `cargo bench -p isobar-benches --bench encoding -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use criterion::{Criterion, Throughput};
use isobar_benches::pages::{self, PAGE_ROWS, Values};
use isobar_storage::ColumnType;
use isobar_storage::encoding::{IntKind, decode_array, decode_ints, encode_array, encode_ints};
use isobar_workload::Spec;

const LEVEL: i32 = 3;
const SERIES_LEN: usize = 1000;

/// The column of `spec` named `name`, over one page.
fn column(spec: &Spec, name: &str) -> Values {
    let cols = pages::columns(spec, PAGE_ROWS, SERIES_LEN).columns;
    match cols.into_iter().find(|(n, _, _)| *n == name) {
        Some((_, _, values)) => values,
        None => panic!("the workload has no column {name}"),
    }
}

fn array(values: Values) -> ArrayRef {
    match values {
        Values::F64(v) => Arc::new(Float64Array::from(v)),
        Values::I64(v) => Arc::new(Int64Array::from(v)),
    }
}

fn columns() -> Vec<(&'static str, ColumnType, ArrayRef)> {
    let (iot, weather) = (Spec::iot(), Spec::weather());
    let Values::F64(velocity) = column(&iot, "velocity") else { panic!("velocity is f64") };
    // A boolean shaped like real data: is the truck (nearly) standing still.
    let flags: Vec<bool> = velocity.iter().map(|v| *v < 10.0).collect();
    let drivers = ["Albert", "Derek", "Walker", "Trish", "Rodney", "Seth", "Andy", "Zoey"];
    let names: Vec<&str> = (0..PAGE_ROWS).map(|i| drivers[(i / SERIES_LEN) % drivers.len()]).collect();
    vec![
        ("iot_latitude", ColumnType::F64, array(column(&iot, "latitude"))),
        ("iot_load", ColumnType::F64, array(column(&iot, "load"))),
        ("iot_elevation", ColumnType::F64, array(column(&iot, "elevation"))),
        ("weather_temperature", ColumnType::F64, array(column(&weather, "temperature"))),
        ("weather_humidity", ColumnType::F64, array(column(&weather, "humidity"))),
        ("int_status", ColumnType::I64, array(column(&iot, "status"))),
        ("bool_flags", ColumnType::Bool, Arc::new(BooleanArray::from(flags))),
        ("string_dict", ColumnType::String, Arc::new(StringArray::from(names))),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("encoding");
    g.throughput(Throughput::Elements(PAGE_ROWS as u64));

    let ts = pages::columns(&Spec::iot(), PAGE_ROWS, SERIES_LEN).ts;
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
