//! Late and duplicate data are mixed in at the requested rates, without changing any value.

use std::collections::{BTreeMap, BTreeSet};

use isobar_storage::{ColumnValues, WriteBatch};
use isobar_workload::{Disorder, Generator, Spec};

type Cells = BTreeMap<(String, i64), Vec<u64>>;

/// Every row of `b` as ((series, ts), value bits).
fn rows(b: &WriteBatch) -> Vec<((String, i64), Vec<u64>)> {
    let mut out = Vec::new();
    for s in &b.series {
        for (i, ts) in s.ts.iter().enumerate() {
            let vals = s
                .columns
                .iter()
                .map(|c| match &c.values {
                    ColumnValues::F64(v) => v[i].to_bits(),
                    ColumnValues::I64(v) => v[i] as u64,
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
            out.push(((s.series.clone(), *ts), vals));
        }
    }
    out
}

#[test]
fn late_rows_and_duplicates_come_at_the_requested_fractions() {
    let spec = Spec::iot().series(20).timestamps(4320);
    let disorder = Disorder { late_fraction: 0.05, max_late_ns: 3_600_000_000_000, duplicate_fraction: 0.2 };
    let make = || Generator::new(spec.clone()).ts_per_batch(5).series_per_batch(10).disorder(disorder);
    let batches: Vec<_> = make().collect();
    assert_eq!(batches, make().collect::<Vec<_>>(), "disorder is deterministic");

    let clean: Cells = Generator::new(spec.clone()).flat_map(|b| rows(&b)).collect();
    let mut seen: Cells = BTreeMap::new();
    let mut newest: BTreeMap<String, i64> = BTreeMap::new();
    let (mut dups, mut late, mut total, mut dup_batches) = (0usize, 0usize, 0usize, 0usize);
    let mut batch_keys: Vec<BTreeSet<(String, i64)>> = Vec::new();
    let window_ns = 5 * spec.interval_ns;
    for b in &batches {
        let rs = rows(b);
        let keys: BTreeSet<_> = rs.iter().map(|(k, _)| k.clone()).collect();
        if batch_keys.iter().rev().take(2).any(|k| *k == keys) {
            dup_batches += 1;
        }
        batch_keys.push(keys);
        for (key, vals) in rs {
            total += 1;
            if let Some(prev) = seen.insert(key.clone(), vals.clone()) {
                assert_eq!(prev, vals, "a duplicate repeats the values exactly");
                dups += 1;
                continue;
            }
            let newest = newest.entry(key.0.clone()).or_insert(i64::MIN);
            if key.1 < *newest {
                late += 1;
                assert!(key.1 + disorder.max_late_ns + window_ns >= *newest, "{key:?} later than allowed");
            }
            *newest = (*newest).max(key.1);
        }
    }
    assert_eq!(seen, clean, "disorder moves and repeats rows but changes none");
    let distinct = clean.len();
    assert_eq!(total, distinct + dups);
    let late_frac = late as f64 / distinct as f64;
    let dup_frac = dups as f64 / distinct as f64;
    assert!((late_frac / 0.05 - 1.0).abs() < 0.1, "late fraction {late_frac}");
    assert!((dup_frac / 0.2 - 1.0).abs() < 0.15, "duplicate fraction {dup_frac}");
    assert!(dup_batches > 0, "duplicates are whole re-sent batches");
}
