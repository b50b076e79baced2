//! Filters on `series` and `ts` that the engine answers itself: which ones a relation accepts
//! and what they become in the engine's request (series selectors and one time range).
//!
//! Accepted `Exact` (the engine returns exactly the rows they select), alone or ANDed
//! (DataFusion splits conjunctions): `series = 'k'`, `series IN ('a', 'b')`, `series LIKE
//! 'prefix%'` (no wildcard before the final `%`), `starts_with(series, 'p')`, `series` compared
//! with `<`, `<=`, `>`, `>=` or `BETWEEN`; `ts` compared with a timestamp the same ways or `=`.
//! Accepted `Inexact`: any other `series LIKE` pattern that starts with literal characters (the
//! engine reads that prefix, DataFusion applies the whole pattern to what it returns).
//! `series = 'a' OR series = 'b'` (what DataFusion makes of a short `IN` list) is a key set too.
//! Everything else (other columns, other `OR`s, `NOT`, functions of `ts`) is left to DataFusion
//! above the scan.

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Like, Operator, TableProviderFilterPushDown};
use isobar_storage::{SeriesSelector, TimeRange};

/// What the accepted filters of one scan select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pushed {
    /// Every accepted series condition (all must hold).
    pub(crate) series: Vec<SeriesCond>,
    /// The intersection of every `ts` condition.
    pub(crate) range: TimeRange,
}

/// One accepted condition on `series`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SeriesCond {
    /// `series IN (...)` or `series = k`: one of these keys.
    Keys(Vec<String>),
    /// A selector (prefix or key range).
    Selector(SeriesSelector),
}

impl SeriesCond {
    fn matches(&self, key: &str) -> bool {
        match self {
            SeriesCond::Keys(keys) => keys.iter().any(|k| k == key),
            SeriesCond::Selector(s) => s.matches(key),
        }
    }
}

/// The engine scans that answer the series conditions: the selectors to scan one after the
/// other (in key order, disjoint) and the conditions still to check per row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SeriesPlan {
    /// Selectors scanned in order.
    pub(crate) selectors: Vec<SeriesSelector>,
    /// Conditions the scanned rows must still meet (only when two range-like conditions meet).
    pub(crate) post: Vec<SeriesSelector>,
}

impl Pushed {
    /// The accepted conditions among `filters`; callers only pass filters [`accepts`] took.
    pub(crate) fn from_filters(filters: &[Expr]) -> Self {
        let mut out = Pushed { series: Vec::new(), range: TimeRange::ALL };
        for f in filters {
            match classify(f) {
                Some((Cond::Series(c), _)) => out.series.push(c),
                Some((Cond::Time(r), _)) => {
                    out.range = TimeRange { from: out.range.from.max(r.from), to: out.range.to.min(r.to) };
                }
                None => {}
            }
        }
        out
    }

    /// How to scan the series conditions.
    pub(crate) fn series_plan(&self) -> SeriesPlan {
        let mut key_sets = self.series.iter().filter_map(|c| match c {
            SeriesCond::Keys(k) => Some(k),
            SeriesCond::Selector(_) => None,
        });
        if let Some(first) = key_sets.next() {
            let mut keys: Vec<String> =
                first.iter().filter(|k| self.series.iter().all(|c| c.matches(k))).cloned().collect();
            keys.sort_unstable();
            keys.dedup();
            return SeriesPlan { selectors: keys.into_iter().map(SeriesSelector::Exact).collect(), post: Vec::new() };
        }
        let mut selectors = self.series.iter().filter_map(|c| match c {
            SeriesCond::Selector(s) => Some(s.clone()),
            SeriesCond::Keys(_) => None,
        });
        match selectors.next() {
            None => SeriesPlan { selectors: vec![SeriesSelector::All], post: Vec::new() },
            Some(first) => SeriesPlan { selectors: vec![first], post: selectors.collect() },
        }
    }

    /// True when nothing can match (an empty key set or an empty time range).
    pub(crate) fn is_empty(&self) -> bool {
        self.range.is_empty() || self.series_plan().selectors.is_empty()
    }
}

/// How the engine answers `filter`: `Exact`, `Inexact` (it reads a superset) or `Unsupported`.
pub(crate) fn accepts(filter: &Expr) -> TableProviderFilterPushDown {
    match classify(filter) {
        Some((_, true)) => TableProviderFilterPushDown::Exact,
        Some((_, false)) => TableProviderFilterPushDown::Inexact,
        None => TableProviderFilterPushDown::Unsupported,
    }
}

/// [`accepts`] for conditions on `series` alone (they commute with taking each series' newest
/// row, see `crate::latest`); everything else `Unsupported`.
pub(crate) fn accepts_series(filter: &Expr) -> TableProviderFilterPushDown {
    match classify(filter) {
        Some((Cond::Series(_), _)) => accepts(filter),
        _ => TableProviderFilterPushDown::Unsupported,
    }
}

enum Cond {
    Series(SeriesCond),
    Time(TimeRange),
}

/// The condition `e` is, and whether the engine answers it exactly.
fn classify(e: &Expr) -> Option<(Cond, bool)> {
    if let Expr::Like(Like { negated: false, expr, pattern, escape_char: None, case_insensitive: false }) = e
        && column_name(expr) == Some("series")
    {
        return like(&string_lit(pattern)?);
    }
    classify_exact(e).map(|c| (c, true))
}

/// `series LIKE pattern` (`\` escapes by default, so it ends the literal prefix like a wildcard).
fn like(pattern: &str) -> Option<(Cond, bool)> {
    let cut = pattern.find(['%', '_', '\\']).unwrap_or(pattern.len());
    let (prefix, rest) = pattern.split_at_checked(cut)?;
    let selector = |c| Some((Cond::Series(c), true));
    match rest {
        "" => selector(SeriesCond::Keys(vec![prefix.to_string()])),
        "%" => selector(SeriesCond::Selector(SeriesSelector::Prefix(prefix.to_string()))),
        _ if !prefix.is_empty() => {
            Some((Cond::Series(SeriesCond::Selector(SeriesSelector::Prefix(prefix.to_string()))), false))
        }
        _ => None,
    }
}

fn classify_exact(e: &Expr) -> Option<Cond> {
    match e {
        // DataFusion rewrites a short `series IN (...)` into `series = a OR series = b`: a
        // disjunction of key sets is the union of the keys.
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            match (classify_exact(left)?, classify_exact(right)?) {
                (Cond::Series(SeriesCond::Keys(mut a)), Cond::Series(SeriesCond::Keys(b))) => {
                    a.extend(b);
                    Some(Cond::Series(SeriesCond::Keys(a)))
                }
                _ => None,
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (col, op, lit) = match (column_name(left), column_name(right)) {
                (Some(c), None) => (c, *op, right.as_ref()),
                (None, Some(c)) => (c, op.swap()?, left.as_ref()),
                _ => return None,
            };
            match col {
                "series" => series_cmp(op, string_lit(lit)?).map(Cond::Series),
                "ts" => time_cmp(op, ts_lit(lit)?).map(Cond::Time),
                _ => None,
            }
        }
        Expr::InList(list) if !list.negated && column_name(&list.expr) == Some("series") => {
            let keys = list.list.iter().map(string_lit).collect::<Option<Vec<_>>>()?;
            Some(Cond::Series(SeriesCond::Keys(keys)))
        }
        Expr::Between(Between { expr, negated: false, low, high }) => match column_name(expr)? {
            "series" => {
                let (lo, hi) = (string_lit(low)?, string_lit(high)?);
                Some(Cond::Series(SeriesCond::Selector(SeriesSelector::Range {
                    start: Some(lo),
                    end: Some(after(hi)),
                })))
            }
            "ts" => {
                let (lo, hi) = (ts_lit(low)?, ts_lit(high)?);
                Some(Cond::Time(TimeRange { from: lo, to: hi.saturating_add(1) }))
            }
            _ => None,
        },
        Expr::ScalarFunction(f) if f.name() == "starts_with" => match f.args.as_slice() {
            [col, prefix] if column_name(col) == Some("series") => {
                Some(Cond::Series(SeriesCond::Selector(SeriesSelector::Prefix(string_lit(prefix)?))))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `series <op> k` as a condition.
fn series_cmp(op: Operator, k: String) -> Option<SeriesCond> {
    let range = |start: Option<String>, end: Option<String>| SeriesCond::Selector(SeriesSelector::Range { start, end });
    Some(match op {
        Operator::Eq => SeriesCond::Keys(vec![k]),
        Operator::GtEq => range(Some(k), None),
        Operator::Gt => range(Some(after(k)), None),
        Operator::Lt => range(None, Some(k)),
        Operator::LtEq => range(None, Some(after(k))),
        _ => return None,
    })
}

/// `ts <op> t` as a half-open range.
fn time_cmp(op: Operator, t: i64) -> Option<TimeRange> {
    Some(match op {
        Operator::Eq => TimeRange { from: t, to: t.saturating_add(1) },
        Operator::GtEq => TimeRange { from: t, to: i64::MAX },
        Operator::Gt => TimeRange { from: t.saturating_add(1), to: i64::MAX },
        Operator::Lt => TimeRange { from: i64::MIN, to: t },
        Operator::LtEq => TimeRange { from: i64::MIN, to: t.saturating_add(1) },
        _ => return None,
    })
}

/// The smallest key after `k` in byte order.
fn after(mut k: String) -> String {
    k.push('\0');
    k
}

fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(Column { name, .. }) => Some(name.as_str()),
        _ => None,
    }
}

fn string_lit(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

/// A timestamp literal in nanoseconds (any unit; a time zone does not change the instant).
fn ts_lit(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::TimestampNanosecond(Some(t), _) => Some(*t),
            ScalarValue::TimestampMicrosecond(Some(t), _) => t.checked_mul(1_000),
            ScalarValue::TimestampMillisecond(Some(t), _) => t.checked_mul(1_000_000),
            ScalarValue::TimestampSecond(Some(t), _) => t.checked_mul(1_000_000_000),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
