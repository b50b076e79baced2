//! Model-based test: random writes (overwrites, out-of-order, sparse columns, explicit nulls,
//! several families and tables), range deletes, flushes, compactions (manual, and background at random points)
//! and reopens, compared after every step with a plain
//! in-memory model of what the store must contain.

mod common;

use common::{Model, create_tables, families, family_columns, scan_all};
use std::time::Duration;

use isobar_storage::{
    ColumnType, ColumnValues, ColumnWrite, CompactionOptions, Db, Options, SeriesSelector, SeriesWrite, SyncPolicy,
    TimeRange,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Write { table: usize, series: usize, ts: Vec<i64>, family_mask: u8, value_seed: u64, null_mask: u64 },
    Delete { table: usize, family: Option<usize>, selector: u8, key: usize, from: i64, len: i64 },
    Flush,
    Reopen,
    Compact { table: usize, family: Option<usize>, from: i64, len: i64 },
}

const TABLES: [&str; 2] = ["t0", "t1"];
const SERIES: [&str; 4] = ["s0", "s1", "s10", "s2"];
const FLOATS: [f64; 6] = [1.5, -0.0, f64::NAN, 1e300, 0.1, -7.25];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..2usize, 0..4usize, prop::collection::vec(0..24i64, 1..6), 1..4u8, any::<u64>(), any::<u64>())
            .prop_map(|(table, series, ts, family_mask, value_seed, null_mask)| Op::Write { table, series, ts, family_mask, value_seed, null_mask }),
        2 => (0..2usize, prop::option::of(0..2usize), 0..4u8, 0..4usize, 0..24i64, 1..12i64)
            .prop_map(|(table, family, selector, key, from, len)| Op::Delete { table, family, selector, key, from, len }),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
        1 => (0..2usize, prop::option::of(0..2usize), 0..24i64, 1..30i64)
            .prop_map(|(table, family, from, len)| Op::Compact { table, family, from, len }),
    ]
}

fn build_write(table: &str, series: &str, ts: &[i64], family_mask: u8, seed: u64, nulls: u64) -> SeriesWrite {
    let mut ts = ts.to_vec();
    ts.sort_unstable();
    ts.dedup();
    ts.reverse(); // out of order on purpose
    let n = ts.len();
    let mut columns = Vec::new();
    let mut bit = 0;
    for (fi, family) in families(table).into_iter().enumerate() {
        if family_mask & (1 << fi) == 0 {
            continue;
        }
        for (ci, (name, ty)) in family_columns(table, family).into_iter().enumerate() {
            let salt = seed.wrapping_mul(31).wrapping_add((fi * 7 + ci) as u64);
            let values = match ty {
                ColumnType::F64 => {
                    ColumnValues::F64((0..n).map(|i| FLOATS[(salt as usize + i) % FLOATS.len()]).collect())
                }
                ColumnType::I64 => ColumnValues::I64((0..n).map(|i| salt as i64 ^ i as i64).collect()),
                ColumnType::Bool => ColumnValues::Bool((0..n).map(|i| (salt >> i) & 1 == 1).collect()),
                ColumnType::String => {
                    ColumnValues::String((0..n).map(|i| format!("v{}", (salt + i as u64) % 5)).collect())
                }
            };
            let validity: Vec<bool> = (0..n)
                .map(|_| {
                    bit += 1;
                    nulls >> (bit % 64) & 1 == 0 || bit % 3 == 0
                })
                .collect();
            // Some rows without a value set the cell to null on purpose (an explicit null).
            let explicit: Vec<bool> =
                validity.iter().enumerate().map(|(i, v)| !v && (seed >> ((ci + i) % 64)) & 1 == 1).collect();
            let explicit = explicit.contains(&true).then_some(explicit);
            columns.push(ColumnWrite {
                family: family.into(),
                column: name.into(),
                values,
                validity: Some(validity),
                nulls: explicit,
            });
        }
    }
    SeriesWrite { table: table.into(), series: series.into(), ts, columns }
}

fn selector(kind: u8, key: usize) -> SeriesSelector {
    match kind {
        0 => SeriesSelector::All,
        1 => SeriesSelector::Exact(SERIES[key].into()),
        2 => SeriesSelector::Prefix(SERIES[key][..2].into()),
        _ => SeriesSelector::Range { start: Some(SERIES[key].into()), end: Some("s2".into()) },
    }
}

fn options() -> Options {
    // Tiny memtables, pages and windows (8 ns) so that flushes split output across windows and
    // the background worker merges eagerly while the test runs.
    let compaction = CompactionOptions {
        window: Duration::from_nanos(8),
        min_merge: 2,
        interval: Duration::from_millis(5),
        ..CompactionOptions::default()
    };
    Options { sync: SyncPolicy::None, memtable_size: 2048, rows_per_page: 7, compaction, ..Options::default() }
}

fn check(db: &Db, model: &Model, step: usize) -> Result<(), TestCaseError> {
    for table in TABLES {
        let got = scan_all(db, table, &SeriesSelector::All, TimeRange::ALL);
        let want = model.scan(table, &SeriesSelector::All, TimeRange::ALL);
        prop_assert_eq!(&got, &want, "table {} after step {}", table, step);
        let sel = SeriesSelector::Prefix("s1".into());
        let range = TimeRange::new(3, 17);
        prop_assert_eq!(
            scan_all(db, table, &sel, range),
            model.scan(table, &sel, range),
            "filtered scan of {} after step {}",
            table,
            step
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(dir.path(), options()).unwrap();
        create_tables(&db);
        let mut model = Model::default();
        for (step, op) in ops.iter().enumerate() {
            match op {
                Op::Write { table, series, ts, family_mask, value_seed, null_mask } => {
                    let w = build_write(TABLES[*table], SERIES[*series], ts, *family_mask, *value_seed, *null_mask);
                    if w.columns.is_empty() { continue; }
                    db.write(w.clone()).unwrap();
                    model.write(&w);
                }
                Op::Delete { table, family, selector: kind, key, from, len } => {
                    let fams = families(TABLES[*table]);
                    let family = family.map(|f| fams[f % fams.len()]);
                    let sel = selector(*kind, *key);
                    let range = TimeRange::new(*from, from + len);
                    db.delete(TABLES[*table], family, sel.clone(), range).unwrap();
                    model.delete(TABLES[*table], family, &sel, range);
                }
                Op::Flush => db.flush().unwrap(),
                Op::Compact { table, family, from, len } => {
                    let fams = families(TABLES[*table]);
                    let family = family.map(|f| fams[f % fams.len()]);
                    let range = (*from % 3 != 0).then(|| TimeRange::new(*from, from + len));
                    db.compact(TABLES[*table], family, range).unwrap();
                }
                Op::Reopen => {
                    db.close().unwrap();
                    drop(db);
                    db = Db::open(dir.path(), options()).unwrap();
                }
            }
            check(&db, &model, step)?;
        }
        db.close().unwrap();
    }
}
