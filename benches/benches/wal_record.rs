//! WAL record framing (length, CRC-32C, seq, payload) encode and decode throughput (bytes/s),
//! for payloads the size of small and large ingest batches.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use isobar_storage::wal::format::{decode_record, encode_record};

fn framing(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal_record");
    for size in [4 << 10, 64 << 10, 1 << 20] {
        let payload: Vec<u8> = (0..size).map(|i: usize| (i.wrapping_mul(31) >> 3) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        let mut out = Vec::with_capacity(size + 64);
        group.bench_with_input(BenchmarkId::new("encode", size), &size, |b, _| {
            b.iter(|| {
                out.clear();
                encode_record(&mut out, 42, &payload);
                out.len()
            });
        });
        let mut framed = Vec::new();
        encode_record(&mut framed, 42, &payload);
        group.bench_with_input(BenchmarkId::new("decode", size), &size, |b, _| {
            b.iter(|| decode_record(&framed, 0).map(|r| r.payload.len()));
        });
    }
    group.finish();
}

criterion_group!(benches, framing);
criterion_main!(benches);
