//! The fast merge against the general one on random sources, and the work it does in the
//! late-run case (stretches, not rows).

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array};
use arrow_buffer::ScalarBuffer;
use proptest::prelude::*;

use super::{Plan, Stretch, merge_sorted};
use crate::read::merge::{filter_rows, interleave_runs};
use crate::run::Run;
use crate::schema::{ColumnId, ColumnType};

/// Column 0 and 1 are `f64`, column 2 is `i64`, column 3 is `bool` (copied generically).
fn types(id: ColumnId) -> Option<ColumnType> {
    match id {
        0 | 1 => Some(ColumnType::F64),
        2 => Some(ColumnType::I64),
        3 => Some(ColumnType::Bool),
        _ => None,
    }
}

fn f64_run(ts: Vec<i64>, seq: u64, values: Vec<Option<f64>>) -> Run {
    let n = ts.len();
    Run {
        series: "s".into(),
        ts: ScalarBuffer::from(ts),
        seq: ScalarBuffer::from(vec![seq; n]),
        columns: vec![(0, Arc::new(Float64Array::from(values)) as ArrayRef)],
    }
}

#[test]
fn late_rows_between_a_big_sources_rows_cost_stretches_not_rows() {
    let main = f64_run((0..1000).map(|t| t * 10).collect(), 1, (0..1000).map(|t| Some(t as f64)).collect());
    // Three late rows between the main run's rows, one on a time the main run holds.
    let late = f64_run(vec![15, 500, 7005], 9, vec![Some(-1.0), None, Some(-3.0)]);
    let runs = [main, late];
    let plan = Plan::new(&runs);
    assert_eq!(plan.ts.len(), 1002);
    // main [0..2), late 15, main [2..50), shared 500, main [51..701), late 7005, main [701..).
    assert_eq!(
        plan.stretches,
        [
            Stretch { run: 0, first: 0, len: 2 },
            Stretch { run: 1, first: 0, len: 1 },
            Stretch { run: 0, first: 2, len: 48 },
            Stretch { run: 1, first: 1, len: 1 },
            Stretch { run: 0, first: 51, len: 650 },
            Stretch { run: 1, first: 2, len: 1 },
            Stretch { run: 0, first: 701, len: 299 },
        ]
    );
    let merged = merge_sorted(&runs, &[0], &types).unwrap();
    merged.check_invariants().unwrap();
    let col = merged.column(0).unwrap();
    // The late row at 500 has no value: the main file's value stays, with the late row's seq.
    let at = merged.ts.iter().position(|t| *t == 500).unwrap();
    assert_eq!(merged.seq.get(at), Some(&9));
    let cell = col.slice(at, 1);
    assert_eq!(cell.as_ref(), &Float64Array::from(vec![Some(50.0)]) as &dyn arrow_array::Array);
    // The other late rows land between the main run's rows with their own values.
    let at15 = merged.ts.iter().position(|t| *t == 15).unwrap();
    let at7005 = merged.ts.iter().position(|t| *t == 7005).unwrap();
    assert_eq!((at15, at7005), (2, 702));
    assert_eq!(col.slice(at15, 1).as_ref(), &Float64Array::from(vec![-1.0]) as &dyn arrow_array::Array);
    assert_eq!(col.slice(at7005, 1).as_ref(), &Float64Array::from(vec![-3.0]) as &dyn arrow_array::Array);
}

/// A source as drawn: its times, the cells of each column, which columns it has.
type Drawn = (Vec<i64>, Vec<Vec<Option<i64>>>, Vec<bool>);

/// A random source: sorted distinct times in `0..60`, sparse cells of some columns.
fn source() -> impl Strategy<Value = Drawn> {
    (prop::collection::btree_set(0i64..60, 0..30), prop::collection::vec(any::<bool>(), 4), any::<[bool; 4]>())
        .prop_flat_map(|(ts, has, dense)| {
            let n = ts.len();
            // A dense column has a value in every row (no validity to copy), a sparse one has gaps.
            let cells = dense
                .map(|d| {
                    let cell = if d {
                        (-50i64..50).prop_map(Some).boxed()
                    } else {
                        prop::option::weighted(0.7, -50i64..50).boxed()
                    };
                    prop::collection::vec(cell, n)
                })
                .to_vec();
            (Just(ts.into_iter().collect::<Vec<_>>()), cells, Just(has))
        })
}

fn build(sources: &[Drawn], seqs: &[u64], delete: (i64, i64, u64)) -> Vec<Run> {
    sources
        .iter()
        .enumerate()
        .map(|(k, (ts, cells, has))| {
            let base = seqs.get(k).copied().unwrap_or_default() * 100;
            let seq: Vec<u64> = (0..ts.len() as u64).map(|i| base + i).collect();
            let mut columns: Vec<(ColumnId, ArrayRef)> = Vec::new();
            for (id, (values, present)) in cells.iter().zip(has).enumerate() {
                if !present {
                    continue;
                }
                let array: ArrayRef = if id == 2 {
                    Arc::new(Int64Array::from(values.clone()))
                } else if id == 3 {
                    Arc::new(BooleanArray::from(values.iter().map(|v| v.map(|x| x > 0)).collect::<Vec<_>>()))
                } else {
                    Arc::new(Float64Array::from(values.iter().map(|v| v.map(|x| x as f64)).collect::<Vec<_>>()))
                };
                columns.push((id as ColumnId, array));
            }
            let run =
                Run { series: "s".into(), ts: ScalarBuffer::from(ts.clone()), seq: ScalarBuffer::from(seq), columns };
            // A range delete of [from, to) for rows older than its seq, applied as the read does.
            let (from, to, seq) = delete;
            filter_rows(run, |t, s| !(t >= from && t < to && s < seq))
        })
        .collect()
}

proptest! {
    #[test]
    fn fast_merge_answers_as_the_general_merge(
        sources in prop::collection::vec(source(), 2..6),
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut seqs: Vec<u64> = (1..=6).collect();
            for i in (1..seqs.len()).rev() {
                seqs.swap(i, (rng.next_u32() as usize) % (i + 1));
            }
            seqs
        }),
        delete in (0i64..60, 0i64..30, 0u64..700),
        ids in prop::collection::btree_set(0 as ColumnId..5, 1..5),
    ) {
        let runs: Vec<Run> = build(&sources, &order, (delete.0, delete.0 + delete.1, delete.2))
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect();
        let ids: Vec<ColumnId> = ids.into_iter().filter(|id| types(*id).is_some()).collect();
        let fast = merge_sorted(&runs, &ids, &types).expect("types match");
        let general = interleave_runs(&runs, &ids, &types);
        fast.check_invariants().unwrap();
        prop_assert_eq!(fast.ts.as_ref(), general.ts.as_ref());
        prop_assert_eq!(fast.seq.as_ref(), general.seq.as_ref());
        prop_assert_eq!(fast.columns.len(), general.columns.len());
        for ((a, x), (b, y)) in fast.columns.iter().zip(&general.columns) {
            prop_assert_eq!(a, b);
            prop_assert_eq!(x.to_data(), y.to_data(), "column {}", a);
        }
    }
}

#[test]
fn a_column_of_another_type_declines_the_fast_path() {
    let a = f64_run(vec![1, 2], 1, vec![Some(1.0), Some(2.0)]);
    let b = f64_run(vec![2, 3], 2, vec![Some(5.0), None]);
    // Column 2 is declared i64, but these runs hold f64 under id 0; ask for id 0 as i64.
    let as_i64 = |_: ColumnId| Some(ColumnType::I64);
    assert!(merge_sorted(&[a, b], &[0], &as_i64).is_none());
}
