//! `latest` equals the newest row (or newest non-null value per column) found by scanning the
//! whole history, for random sparse writes, explicit nulls, overwrites, deletes of recent data
//! and flushes.

mod common;

use std::collections::BTreeMap;

use common::{V, rows};
use isobar_query::column_ref::ColumnRef;
use isobar_query::{LatestMode, LatestQuery, latest};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesSelector, SeriesWrite, SyncPolicy, TableSpec, TimeRange,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// Rows `(ts, x, on, x_null)`: an absent `x` with `x_null` is an explicit null.
    Write {
        series: u8,
        family: bool,
        rows: Vec<(i64, Option<i32>, Option<bool>, bool)>,
    },
    Delete {
        series: u8,
        from: i64,
        len: i64,
    },
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let row = (
        0i64..500,
        proptest::option::weighted(0.6, any::<i32>()),
        proptest::option::weighted(0.5, any::<bool>()),
        any::<bool>(),
    );
    prop_oneof![
        5 => (0u8..3, any::<bool>(), proptest::collection::vec(row, 1..30))
            .prop_map(|(series, family, rows)| Op::Write { series, family, rows }),
        1 => (0u8..3, 0i64..500, 1i64..200).prop_map(|(series, from, len)| Op::Delete { series, from, len }),
        1 => Just(Op::Flush),
    ]
}

/// Per series: the last scan row, or per column the last non-null value followed by its ts.
fn expected(scan: &[Vec<V>], per_column: bool) -> Vec<Vec<V>> {
    let mut by_series: BTreeMap<V, Vec<&Vec<V>>> = BTreeMap::new();
    for r in scan {
        by_series.entry(r[0].clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (s, rs) in by_series {
        if !per_column {
            out.push(rs.last().map(|r| (*r).clone()).unwrap());
            continue;
        }
        let ncols = rs[0].len() - 2;
        let newest: Vec<Option<(V, V)>> = (0..ncols)
            .map(|c| rs.iter().rev().find(|r| r[c + 2] != V::N).map(|r| (r[1].clone(), r[c + 2].clone())))
            .collect();
        let Some(ts) = newest.iter().flatten().map(|(t, _)| t.clone()).max() else { continue };
        let mut row = vec![s, ts];
        row.extend(newest.into_iter().flat_map(|n| n.map_or([V::N, V::N], |(t, v)| [v, t])));
        out.push(row);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn latest_equals_the_end_of_a_scan(ops in proptest::collection::vec(op(), 1..30), lo in 0i64..100, hi in 300i64..600) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, rows_per_page: 8, ..Options::default() }).unwrap();
        db.create_table(TableSpec::new("t").family("n", &[("x", ColumnType::I64), ("on", ColumnType::Bool)])
            .family("m", &[("y", ColumnType::I64)])).unwrap();
        for op in &ops {
            match op {
                Op::Write { series, family, rows } => {
                    let mut seen = std::collections::BTreeSet::new();
                    let rows: Vec<_> = rows.iter().filter(|r| seen.insert(r.0)).collect();
                    let ts: Vec<i64> = rows.iter().map(|r| r.0).collect();
                    let xs = ColumnValues::I64(rows.iter().map(|r| i64::from(r.1.unwrap_or(0))).collect());
                    let xv: Vec<bool> = rows.iter().map(|r| r.1.is_some()).collect();
                    let x_nulls: Vec<bool> = rows.iter().map(|r| r.1.is_none() && r.3).collect();
                    let mut w = SeriesWrite::new("t", format!("s{series}"), ts);
                    w = if *family {
                        let ons = ColumnValues::Bool(rows.iter().map(|r| r.2.unwrap_or(false)).collect());
                        w.column_with_nulls("n", "x", xs, xv, x_nulls).sparse_column("n", "on", ons, rows.iter().map(|r| r.2.is_some()).collect())
                    } else {
                        w.column_with_nulls("m", "y", xs, xv, x_nulls)
                    };
                    db.write(w).unwrap();
                }
                Op::Delete { series, from, len } => {
                    db.delete("t", None, SeriesSelector::Exact(format!("s{series}")), TimeRange::new(*from, from + len)).unwrap();
                }
                Op::Flush => db.flush().unwrap(),
            }
        }
        let range = TimeRange::new(lo, hi);
        for columns in [vec![], vec!["m.y".to_string(), "n.x".to_string()]] {
            let scan = rows(&db.scan(&ScanRequest::new("t").range(range).columns(columns.clone())).unwrap());
            for (mode, per_column) in [(LatestMode::Row, false), (LatestMode::PerColumn, true)] {
                let refs = columns.iter().map(|c| c.parse().unwrap()).collect();
                let q = LatestQuery { range, columns: refs, mode, ..LatestQuery::new("t") };
                let got = rows(&[latest(&db.snapshot(), &q).unwrap()]);
                prop_assert_eq!(got, expected(&scan, per_column), "{:?} {:?}", mode, columns);
            }
        }
    }
}

/// The per-column answer follows `query.proto`: each `family.column` is followed by
/// `family.column.ts` holding the time of that value (null with it); `ts` is the newest of them.
/// The row answer has the scan's columns only.
#[test]
fn per_column_answer_gives_the_time_of_each_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("n", &[("x", ColumnType::I64)]).family("m", &[("y", ColumnType::I64)]))
        .unwrap();
    let xs = ColumnValues::I64(vec![1, 0, 3]);
    db.write(SeriesWrite::new("t", "a", vec![10, 20, 30]).sparse_column("n", "x", xs, vec![true, false, false]))
        .unwrap();
    db.flush().unwrap();
    db.write(SeriesWrite::new("t", "a", vec![15]).column("m", "y", ColumnValues::I64(vec![7]))).unwrap();
    db.write(SeriesWrite::new("t", "b", vec![5]).column("n", "x", ColumnValues::I64(vec![9]))).unwrap();

    let columns: Vec<ColumnRef> = vec!["n.x".parse().unwrap(), "m.y".parse().unwrap()];
    let q = LatestQuery { columns: columns.clone(), mode: LatestMode::PerColumn, ..LatestQuery::new("t") };
    let batch = latest(&db.snapshot(), &q).unwrap();
    let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["series", "ts", "n.x", "n.x.ts", "m.y", "m.y.ts"]);
    assert_eq!(batch.schema().field(3).data_type(), batch.schema().field(1).data_type(), "ts columns are timestamps");
    let s = |x: &str| V::S(x.to_string());
    assert_eq!(
        rows(&[batch]),
        [
            vec![s("a"), V::I(15), V::I(1), V::I(10), V::I(7), V::I(15)],
            vec![s("b"), V::I(5), V::I(9), V::I(5), V::N, V::N],
        ]
    );

    let q = LatestQuery { columns, mode: LatestMode::Row, ..LatestQuery::new("t") };
    let batch = latest(&db.snapshot(), &q).unwrap();
    let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["series", "ts", "n.x", "m.y"]);
    // n has a row only at 10 (its cells at 20 and 30 were absent), m at 15: the newest row is 15.
    assert_eq!(rows(&[batch]), [vec![s("a"), V::I(15), V::N, V::I(7)], vec![s("b"), V::I(5), V::I(9), V::N]]);
}
