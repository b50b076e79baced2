//! Shared helpers: a fixed schema, random runs, writing a file, and brute-force expectations.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use proptest::prelude::*;

use crate::run::Run;
use crate::schema::{ColumnId, ColumnType};
use crate::sst::{BlockCache, ColumnSchema, ColumnStats, SstInfo, SstReader, SstWriter, SstWriterOptions, ValueStats};

/// Column ids of the test schema; 9 is in the schema but never written.
pub(crate) const IDS: [ColumnId; 5] = [1, 2, 3, 5, 9];

pub(crate) fn schema() -> Vec<ColumnSchema> {
    let c = |id, name: &str, ty| ColumnSchema { id, name: name.into(), ty };
    vec![
        c(5, "note", ColumnType::String),
        c(1, "temp", ColumnType::F64),
        c(2, "count", ColumnType::I64),
        c(3, "ok", ColumnType::Bool),
        c(9, "spare", ColumnType::I64),
    ]
}

pub(crate) fn type_of(id: ColumnId) -> ColumnType {
    schema().into_iter().find(|c| c.id == id).map_or(ColumnType::I64, |c| c.ty)
}

/// A column of `n` random cells (about a quarter null) of type `ty`.
fn column(ty: ColumnType, n: usize) -> BoxedStrategy<ArrayRef> {
    let cells = |s: BoxedStrategy<i64>| proptest::collection::vec(proptest::option::weighted(0.75, s), n);
    match ty {
        ColumnType::F64 => cells((-4000i64..4000).boxed())
            .prop_map(|v| {
                Arc::new(Float64Array::from_iter(v.into_iter().map(|x| x.map(|x| x as f64 / 4.0)))) as ArrayRef
            })
            .boxed(),
        ColumnType::I64 => cells(prop_oneof![any::<i64>(), -100i64..100].boxed())
            .prop_map(|v| Arc::new(Int64Array::from(v)) as ArrayRef)
            .boxed(),
        ColumnType::Bool => cells((0i64..2).boxed())
            .prop_map(|v| Arc::new(BooleanArray::from_iter(v.into_iter().map(|x| x.map(|x| x == 1)))) as ArrayRef)
            .boxed(),
        ColumnType::String => cells((0i64..50).boxed())
            .prop_map(|v| {
                Arc::new(StringArray::from_iter(
                    v.into_iter().map(|x| x.map(|x| "s".repeat(x as usize % 7) + &x.to_string())),
                )) as ArrayRef
            })
            .boxed(),
    }
}

/// A run of `series` with 1..max_rows rows and a random subset of columns 1, 2, 3, 5.
pub(crate) fn run(series: String, max_rows: usize) -> BoxedStrategy<Run> {
    (1..max_rows, -1000i64..1000)
        .prop_flat_map(move |(n, start)| {
            let series = series.clone();
            let ts = proptest::collection::vec(1i64..20, n).prop_map(move |d| {
                d.iter()
                    .scan(start, |t, d| {
                        *t += d;
                        Some(*t)
                    })
                    .collect::<Vec<i64>>()
            });
            let seq = proptest::collection::vec(prop_oneof![0u64..50, any::<u64>()], n);
            let cols: Vec<BoxedStrategy<Option<(ColumnId, ArrayRef)>>> = [1u32, 2, 3, 5]
                .into_iter()
                .map(|id| proptest::option::of(column(type_of(id), n).prop_map(move |a| (id, a))).boxed())
                .collect();
            (ts, seq, cols).prop_map(move |(ts, seq, cols)| Run {
                series: series.as_str().into(),
                ts: ts.into(),
                seq: seq.into(),
                columns: cols.into_iter().flatten().collect(),
            })
        })
        .boxed()
}

/// 1..8 runs of distinct series (keys from a tiny alphabet, so prefixes are shared), sorted.
pub(crate) fn runs(max_rows: usize) -> impl Strategy<Value = Vec<Run>> {
    proptest::collection::btree_set("[ab]{1,3}", 1..8)
        .prop_flat_map(move |keys| keys.into_iter().map(|k| run(k, max_rows)).collect::<Vec<_>>())
}

/// Writes `runs` (each split into `splits` appends) into a file at `path`.
pub(crate) fn write(path: &Path, runs: &[Run], rows_per_page: usize, splits: usize) -> SstInfo {
    let opts = SstWriterOptions { rows_per_page, ..SstWriterOptions::default() };
    let mut w = SstWriter::create(path, 3, schema(), opts).unwrap();
    for r in runs {
        let step = r.len().div_ceil(splits.max(1)).max(1);
        let mut at = 0;
        while at < r.len() {
            let n = step.min(r.len() - at);
            w.append(&r.slice(at, n)).unwrap();
            at += n;
        }
    }
    w.finish().unwrap()
}

pub(crate) fn open(path: &Path) -> SstReader {
    SstReader::open(path, 1, Arc::new(BlockCache::new(1 << 20))).unwrap()
}

/// `run` with every schema column (nulls where absent), restricted to `ids` that are in the schema.
pub(crate) fn expected(run: &Run, ids: &[ColumnId]) -> Run {
    let mut ids: Vec<ColumnId> = ids.iter().copied().filter(|id| IDS.contains(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    Run { columns: ids.iter().map(|id| (*id, run.column_or_null(*id, type_of(*id)))).collect(), ..run.clone() }
}

/// Asserts two runs are equal row for row and column for column.
pub(crate) fn assert_same(got: &Run, want: &Run) -> Result<(), TestCaseError> {
    prop_assert_eq!(&got.series, &want.series);
    prop_assert_eq!(&got.ts[..], &want.ts[..]);
    prop_assert_eq!(&got.seq[..], &want.seq[..]);
    let ids = |r: &Run| r.columns.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    prop_assert_eq!(ids(got), ids(want));
    for ((id, a), (_, b)) in got.columns.iter().zip(&want.columns) {
        prop_assert!(a.to_data() == b.to_data(), "column {} differs: {:?} vs {:?}", id, a, b);
    }
    Ok(())
}

/// Statistics computed the slow way, independently of `ColumnStats::of`.
pub(crate) fn brute_stats(a: &dyn Array) -> ColumnStats {
    let valid: Vec<usize> = (0..a.len()).filter(|i| a.is_valid(*i)).collect();
    let non_null = valid.len() as u64;
    let values = if valid.is_empty() {
        ValueStats::None
    } else {
        match a.data_type() {
            arrow_schema::DataType::Float64 => {
                let v: Vec<f64> = valid.iter().map(|i| a.as_primitive::<Float64Type>().value(*i)).collect();
                let mut sum = 0.0;
                for x in &v {
                    sum += x;
                }
                ValueStats::F64 {
                    min: v.iter().copied().fold(f64::INFINITY, f64::min),
                    max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    sum,
                }
            }
            arrow_schema::DataType::Int64 => {
                let v: Vec<i64> = valid.iter().map(|i| a.as_primitive::<Int64Type>().value(*i)).collect();
                ValueStats::I64 {
                    min: *v.iter().min().unwrap(),
                    max: *v.iter().max().unwrap(),
                    sum: v.iter().map(|x| *x as i128).sum(),
                }
            }
            arrow_schema::DataType::Boolean => {
                ValueStats::Bool { trues: valid.iter().filter(|i| a.as_boolean().value(**i)).count() as u64 }
            }
            _ => ValueStats::None,
        }
    };
    ColumnStats { non_null, values }
}
