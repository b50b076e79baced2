//! Memtable insert throughput (rows/s): the IoT `readings` family (7 f64 columns), appended in
//! writes of `rows` rows per series, in time order as a fleet sends them, over 1,000 series
//! that already exist in the memtable (creating a series is a one-off cost, not measured here).
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use isobar_storage::ColumnValues;
use isobar_storage::{ColumnInput, Memtable};

const SERIES: usize = 1000;
const COLUMNS: u32 = 7;

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("memtable_insert");
    let keys: Vec<String> = (0..SERIES).map(|i| format!("truck_{i}")).collect();
    for rows in [1usize, 10, 100] {
        let ts: Vec<i64> = (1..=rows as i64).map(|i| i * 10_000_000_000).collect();
        let first = ColumnValues::F64(vec![0.0]);
        let first: Vec<ColumnInput<'_>> = (0..COLUMNS)
            .map(|id| ColumnInput { id, ty: first.column_type(), values: &first, validity: None })
            .collect();
        let values: Vec<ColumnValues> = (0..COLUMNS)
            .map(|c| ColumnValues::F64((0..rows).map(|i| f64::from(c) + i as f64 * 0.1).collect()))
            .collect();
        let inputs: Vec<ColumnInput<'_>> = values
            .iter()
            .enumerate()
            .map(|(id, v)| ColumnInput { id: id as u32, ty: v.column_type(), values: v, validity: None })
            .collect();
        group.throughput(Throughput::Elements((rows * SERIES) as u64));
        group.bench_with_input(BenchmarkId::new("rows_per_series_write", rows), &rows, |b, _| {
            b.iter_batched(
                || {
                    let mem = Memtable::new(1);
                    for key in &keys {
                        mem.insert(key, &[0], 1, &first);
                    }
                    mem
                },
                |mem| {
                    for (seq, key) in keys.iter().enumerate() {
                        mem.insert(key, &ts, seq as u64 + 2, &inputs);
                    }
                    mem
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, insert);
criterion_main!(benches);
