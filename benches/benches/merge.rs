//! Last-write-wins merge of runs of one series (rows/s of output): disjoint runs (the common
//! case, concatenation) and overlapping runs where every row is rewritten (the slow path).
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array};
use arrow_buffer::ScalarBuffer;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use isobar_storage::merge_runs;
use isobar_storage::{ColumnId, ColumnType, Run};

const ROWS: i64 = 4096;
const COLUMNS: u32 = 7;

fn run(first_ts: i64, seq: u64) -> Run {
    let ts: Vec<i64> = (0..ROWS).map(|i| (first_ts + i) * 10_000_000_000).collect();
    let columns = (0..COLUMNS)
        .map(|c| {
            let v: Float64Array = (0..ROWS).map(|i| f64::from(c) + i as f64 * 0.1).collect();
            (c, Arc::new(v) as ArrayRef)
        })
        .collect();
    Run {
        series: Arc::from("truck_1"),
        ts: ScalarBuffer::from(ts),
        seq: ScalarBuffer::from(vec![seq; ROWS as usize]),
        columns,
    }
}

fn merge(c: &mut Criterion) {
    let types = |_: ColumnId| Some(ColumnType::F64);
    let mut group = c.benchmark_group("merge_runs");
    let cases = [("disjoint", run(0, 1), run(ROWS, 2), 2 * ROWS), ("overlapping", run(0, 1), run(0, 2), ROWS)];
    for (name, a, b, out_rows) in cases {
        group.throughput(Throughput::Elements(out_rows as u64));
        group.bench_with_input(BenchmarkId::new(name, 2), &(), |bench, _| {
            bench.iter(|| merge_runs(vec![a.clone(), b.clone()], &types).map(|r| r.len()));
        });
    }
    group.finish();
}

criterion_group!(benches, merge);
criterion_main!(benches);
