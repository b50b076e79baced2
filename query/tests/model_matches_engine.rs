//! Scans and aggregates equal a brute-force computation over an in-memory model, for random
//! writes (sparse, out of order, overwriting, explicit nulls), range deletes, TTL and flushes; and the
//! push-down path gives exactly the answer of the decoding path.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{V, rows};
use isobar_query::{AggregateFunction as F, AggregateQuery, Aggregation, Bucket, GroupBy, aggregate};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesSelector, SeriesWrite, Snapshot, SyncPolicy, TableSpec,
    TimeRange,
};
use proptest::prelude::*;

const SEC: i64 = 1_000_000_000;
const TTL_S: i64 = 150;
const SERIES: [&str; 4] = ["s0", "s1", "s2", "t0"];
/// (family, column) of the three columns.
const COLS: [(&str, &str); 3] = [("f", "a"), ("f", "b"), ("g", "c")];
const FAMILY_OF: [usize; 3] = [0, 0, 1];
const FAMILIES: [&str; 2] = ["f", "g"];

/// Per bucket, per column: the values with their timestamps.
type Groups = BTreeMap<i64, BTreeMap<usize, Vec<(i64, V)>>>;

#[derive(Clone, Debug)]
enum Op {
    Write { series: usize, family: usize, rows: Vec<(i64, Option<i16>, Option<i16>)> },
    Delete { family: Option<usize>, series: Option<usize>, from: i64, len: i64 },
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    let row = (0i64..300, proptest::option::weighted(0.8, -400i16..400), proptest::option::weighted(0.7, any::<i16>()));
    prop_oneof![
        6 => (0..SERIES.len(), 0..2usize, proptest::collection::vec(row, 1..40))
            .prop_map(|(series, family, rows)| Op::Write { series, family, rows }),
        1 => (proptest::option::of(0..2usize), proptest::option::of(0..SERIES.len()), 0i64..300, 1i64..80)
            .prop_map(|(family, series, from, len)| Op::Delete { family, series, from, len }),
        1 => Just(Op::Flush),
    ]
}

/// Value of column `col` for the raw number `k`.
fn value(col: usize, k: i16) -> V {
    match col {
        0 => V::f(f64::from(k) / 4.0),
        1 => V::I(i64::from(k) * 1_000_000_007),
        _ => V::f(f64::from(k) / 2.0),
    }
}

/// Rows and cells that a correct engine shows (TTL aside).
#[derive(Default)]
struct Model {
    rows: BTreeMap<(usize, String, i64), ()>,
    cells: BTreeMap<(usize, String, i64), V>,
}

impl Model {
    fn apply(&mut self, db: &Db, base: i64, op: &Op) {
        match op {
            Op::Write { series, family, rows } => {
                let mut seen = std::collections::BTreeSet::new();
                let rows: Vec<_> = rows.iter().filter(|r| seen.insert(r.0)).collect();
                let ts: Vec<i64> = rows.iter().map(|r| base + r.0 * SEC).collect();
                let s = SERIES[*series];
                let mut w = SeriesWrite::new("t", s, ts.clone());
                let cols: Vec<usize> = (0..3).filter(|c| FAMILY_OF[*c] == *family).collect();
                // Rows where the family gets a cell: a value or an explicit null.
                let mut has_cell = vec![false; rows.len()];
                for (k, col) in cols.iter().enumerate() {
                    let raw: Vec<Option<i16>> = rows.iter().map(|r| if k == 0 { r.1 } else { r.2 }).collect();
                    let valid: Vec<bool> = raw.iter().map(Option::is_some).collect();
                    // Some rows without a value set the cell to null on purpose.
                    let nulls: Vec<bool> =
                        rows.iter().zip(&raw).map(|(r, v)| v.is_none() && (r.0 + k as i64) % 3 == 0).collect();
                    let values = match col {
                        1 => ColumnValues::I64(raw.iter().map(|v| i64::from(v.unwrap_or(0)) * 1_000_000_007).collect()),
                        0 => ColumnValues::F64(raw.iter().map(|v| f64::from(v.unwrap_or(0)) / 4.0).collect()),
                        _ => ColumnValues::F64(raw.iter().map(|v| f64::from(v.unwrap_or(0)) / 2.0).collect()),
                    };
                    w = w.column_with_nulls(COLS[*col].0, COLS[*col].1, values, valid, nulls.clone());
                    for (i, (t, v)) in ts.iter().zip(&raw).enumerate() {
                        if let Some(v) = v {
                            self.cells.insert((*col, s.to_string(), *t), value(*col, *v));
                        } else if nulls[i] {
                            self.cells.remove(&(*col, s.to_string(), *t));
                        }
                        has_cell[i] |= v.is_some() || nulls[i];
                    }
                }
                // The family has a row only where one of its cells was written.
                for (t, cell) in ts.iter().zip(&has_cell) {
                    if *cell {
                        self.rows.insert((*family, s.to_string(), *t), ());
                    }
                }
                db.write(w).unwrap();
            }
            Op::Delete { family, series, from, len } => {
                let range = TimeRange::new(base + from * SEC, base + (from + len) * SEC);
                let selector = match series {
                    Some(s) => SeriesSelector::Exact(SERIES[*s].into()),
                    None => SeriesSelector::Prefix("s".into()),
                };
                db.delete("t", family.map(|f| FAMILIES[f]), selector.clone(), range).unwrap();
                let hit = |f: usize, s: &str, t: i64| {
                    family.is_none_or(|x| x == f) && selector.matches(s) && range.contains(t)
                };
                self.rows.retain(|(f, s, t), _| !hit(*f, s, *t));
                self.cells.retain(|(c, s, t), _| !hit(FAMILY_OF[*c], s, *t));
            }
            Op::Flush => db.flush().unwrap(),
        }
    }

    fn visible(snap: &Snapshot, range: TimeRange, t: i64) -> bool {
        range.contains(t) && t >= snap.now_ns() - TTL_S * SEC
    }

    /// Scan rows: series, ts, a, b, c.
    fn scan(&self, snap: &Snapshot, range: TimeRange) -> Vec<Vec<V>> {
        let mut keys: Vec<(String, i64)> = self
            .rows
            .keys()
            .filter(|(_, _, t)| Self::visible(snap, range, *t))
            .map(|(_, s, t)| (s.clone(), *t))
            .collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|(s, t)| {
                let mut row = vec![V::S(s.clone()), V::I(t)];
                row.extend((0..3).map(|c| self.cells.get(&(c, s.clone(), t)).cloned().unwrap_or(V::N)));
                row
            })
            .collect()
    }

    /// Brute-force aggregate rows (see the aggregate docs for the shape).
    fn aggregate(&self, snap: &Snapshot, q: &AggregateQuery) -> Vec<Vec<V>> {
        let width = q.bucket.as_ref().map(|b| b.width_ns).unwrap_or(i64::MAX);
        let origin = q.bucket.as_ref().map(|b| b.origin_ns).unwrap_or(0);
        let bucket =
            |t: i64| if q.bucket.is_some() { origin + (t - origin).div_euclid(width) * width } else { q.range.from };
        let col_of = |name: &str| COLS.iter().position(|(f, c)| format!("{f}.{c}") == name).unwrap();
        // group -> bucket -> column -> values in (ts, series) order
        let mut groups: BTreeMap<String, Groups> = BTreeMap::new();
        for ((c, s, t), v) in &self.cells {
            if !Self::visible(snap, q.range, *t) || !q.selector.matches(s) {
                continue;
            }
            let g = if q.group_by == GroupBy::Series { s.clone() } else { String::new() };
            groups.entry(g).or_default().entry(bucket(*t)).or_default().entry(*c).or_default().push((*t, v.clone()));
        }
        let mut out = Vec::new();
        for (g, buckets) in groups {
            for (b, cols) in buckets {
                let aggregated = q.aggregations.iter().any(|a| cols.contains_key(&col_of(&a.column.to_string())));
                if !aggregated {
                    continue;
                }
                let mut row = Vec::new();
                // Across series the `series` column is still there, null in every row.
                row.push(if q.group_by == GroupBy::Series { V::S(g.clone()) } else { V::N });
                row.push(V::I(b));
                for a in &q.aggregations {
                    let mut vals = cols.get(&col_of(&a.column.to_string())).cloned().unwrap_or_default();
                    vals.sort_by_key(|(t, _)| *t); // stable: ties keep series order
                    row.push(fold(a.function, &vals));
                }
                out.push(row);
            }
        }
        out
    }
}

fn fold(f: F, vals: &[(i64, V)]) -> V {
    if f == F::Count {
        return V::I(vals.len() as i64);
    }
    if vals.is_empty() {
        return V::N;
    }
    let ints: Option<Vec<i64>> = vals.iter().map(|(_, v)| if let V::I(x) = v { Some(*x) } else { None }).collect();
    let floats: Vec<f64> = vals
        .iter()
        .map(|(_, v)| match v {
            V::I(x) => *x as f64,
            other => other.as_f64().unwrap_or(0.0),
        })
        .collect();
    let n = vals.len() as f64;
    match (f, &ints) {
        (F::Sum, Some(i)) => V::I(i.iter().sum()),
        (F::Min, Some(i)) => V::I(*i.iter().min().unwrap()),
        (F::Max, Some(i)) => V::I(*i.iter().max().unwrap()),
        (F::Avg, Some(i)) => V::f(i.iter().map(|x| i128::from(*x)).sum::<i128>() as f64 / n),
        (F::Sum, None) => V::f(floats.iter().sum()),
        (F::Min, None) => V::f(floats.iter().copied().fold(f64::INFINITY, f64::min)),
        (F::Max, None) => V::f(floats.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        (F::Avg, None) => V::f(floats.iter().sum::<f64>() / n),
        (F::First, _) => vals
            .iter()
            .fold(None, |best: Option<&(i64, V)>, x| match best {
                Some(b) if b.0 <= x.0 => Some(b),
                _ => Some(x),
            })
            .unwrap()
            .1
            .clone(),
        (F::Last, _) => vals
            .iter()
            .fold(None, |best: Option<&(i64, V)>, x| match best {
                Some(b) if b.0 > x.0 => Some(b),
                _ => Some(x),
            })
            .unwrap()
            .1
            .clone(),
        (F::Stddev, _) if vals.len() >= 2 => {
            let mean = floats.iter().sum::<f64>() / n;
            V::f((floats.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt())
        }
        _ => V::N,
    }
}

/// Equal, comparing stddev columns with a relative tolerance.
fn assert_close(got: &[Vec<V>], want: &[Vec<V>], loose: &[usize], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count\n got {got:?}\nwant {want:?}");
    for (g, w) in got.iter().zip(want) {
        for (i, (x, y)) in g.iter().zip(w).enumerate() {
            if loose.contains(&i)
                && let (Some(a), Some(b)) = (x.as_f64(), y.as_f64())
            {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                    "{what}: {a} vs {b}\n got {g:?}\nwant {w:?}"
                );
            } else {
                assert_eq!(x, y, "{what}: column {i}\n got {g:?}\nwant {w:?}");
            }
        }
    }
}

fn stats_query(bucket: Bucket, range: TimeRange, group_by: GroupBy) -> AggregateQuery {
    let mut aggs = Vec::new();
    for col in ["f.a", "f.b", "g.c"] {
        for f in [F::Count, F::Sum, F::Min, F::Max, F::Avg] {
            aggs.push(Aggregation::new(f, col.parse().unwrap()));
        }
    }
    AggregateQuery { bucket: Some(bucket), range, group_by, ..AggregateQuery::new("t", aggs) }
}

fn full_query(bucket: Option<Bucket>, range: TimeRange, group_by: GroupBy, selector: SeriesSelector) -> AggregateQuery {
    let aggs = [F::First, F::Last, F::Stddev, F::Count, F::Sum]
        .iter()
        .flat_map(|f| ["f.a", "f.b"].map(|c| Aggregation::new(*f, c.parse().unwrap())))
        .chain([Aggregation::new(F::Last, "g.c".parse().unwrap())])
        .collect();
    AggregateQuery { bucket, range, group_by, selector, ..AggregateQuery::new("t", aggs) }
}

/// One query shape of a test case.
#[derive(Clone, Copy)]
struct Case {
    /// Range in seconds after the base.
    r: (i64, i64),
    /// Bucket width in seconds (7 also means "no buckets" for the all-functions query).
    width: i64,
    /// Bucket origin in seconds after the base.
    origin: i64,
    /// Group per series (else across series).
    group: bool,
    /// Select by prefix `s` (else all series).
    prefix: bool,
}

fn check(db: &Db, model: &Model, base: i64, case: &Case) {
    let Case { r, width, origin, group, prefix } = *case;
    let snap = db.snapshot();
    let range = TimeRange::new(base + r.0 * SEC, base + r.1 * SEC);
    let scan = rows(&snap.scan(&ScanRequest::new("t").range(range)).unwrap().collect::<Result<Vec<_>, _>>().unwrap());
    assert_eq!(scan, model.scan(&snap, range), "scan");

    let group_by = if group { GroupBy::Series } else { GroupBy::None };
    let bucket = Bucket::fixed(width * SEC, base + origin * SEC);
    let q = stats_query(bucket.clone(), range, group_by);
    let pushed = rows(&aggregate(&snap, &q).unwrap());
    let decoded = rows(&aggregate(&snap, &AggregateQuery { push_down: false, ..q.clone() }).unwrap());
    assert_eq!(pushed, decoded, "push-down and decoding differ");
    assert_close(&pushed, &model.aggregate(&snap, &q), &[], "aggregate (statistics functions)");

    let selector = if prefix { SeriesSelector::Prefix("s".into()) } else { SeriesSelector::All };
    let bucket = (width != 7).then_some(bucket);
    let q = full_query(bucket, range, group_by, selector);
    let got = rows(&aggregate(&snap, &q).unwrap());
    let offset = 2; // series, ts
    assert_close(&got, &model.aggregate(&snap, &q), &[offset + 4, offset + 5], "aggregate (all functions)");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scans_and_aggregates_equal_the_model(
        ops in proptest::collection::vec(op(), 1..40),
        r in (0i64..150, 1i64..300),
        width in prop_oneof![Just(7i64), Just(30), Just(1000)],
        origin in 0i64..30,
        group in any::<bool>(),
        prefix in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { sync: SyncPolicy::None, rows_per_page: 16, ..Options::default() };
        let db = Db::open(dir.path(), opts).unwrap();
        db.create_table(
            TableSpec::new("t")
                .family("f", &[("a", ColumnType::F64), ("b", ColumnType::I64)])
                .family("g", &[("c", ColumnType::F64)])
                .ttl(Duration::from_secs(TTL_S as u64)),
        ).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
        let base = (now - 200 * SEC) / SEC * SEC;
        let mut model = Model::default();
        for op in &ops {
            model.apply(&db, base, op);
        }
        let range = (r.0, (r.0 + r.1).min(320));
        let case = Case { r: range, width, origin, group, prefix };
        check(&db, &model, base, &case);
        db.flush().unwrap();
        check(&db, &model, base, &case);
        db.close().unwrap();
    }
}
