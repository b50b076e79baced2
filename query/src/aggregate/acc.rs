//! Accumulators: the mergeable state of one input column in one bucket, fed either by decoded
//! values ([`Acc::fold`]) or by chunk statistics ([`Acc::merge_stats`]), and turned into the
//! answer of each function by [`Acc::finish`].
//!
//! Float semantics follow the SSTable statistics so that both feeds agree: `min`/`max` ignore
//! NaN (NaN only when every value is NaN), `sum` includes NaN. Integer sums are exact (`i128`).
//! Float sums are exact as long as the values and their partial sums are representable; with
//! other values they can differ in the last bits between push-down and decoding, because the
//! additions happen in another order (as in every engine that aggregates in parallel).
//! `stddev` is the sample standard deviation, computed with a two-pass mean per segment and
//! Chan's pairwise merge.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use isobar_storage::sst::{ColumnStats, ValueStats};

use crate::queries::AggregateFunction;

/// Which parts of an [`Acc`] the requested functions need (`count` is always kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// sum, min and max (for `sum`, `min`, `max`, `avg`).
    pub sum_min_max: bool,
    /// The value with the smallest ts.
    pub first: bool,
    /// The value with the largest ts.
    pub last: bool,
    /// Mean and squared deviations (for `stddev`).
    pub var: bool,
}

impl Needs {
    /// Adds what `function` needs.
    pub(crate) fn add(&mut self, function: AggregateFunction) {
        use AggregateFunction as F;
        match function {
            F::Count => {}
            F::Sum | F::Min | F::Max | F::Avg => self.sum_min_max = true,
            F::First => self.first = true,
            F::Last => self.last = true,
            F::Stddev => self.var = true,
        }
    }

    /// True when chunk statistics hold everything needed.
    pub(crate) fn answerable_from_stats(self) -> bool {
        !(self.first || self.last || self.var)
    }
}

/// One value of an answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    /// A float.
    F64(f64),
    /// An integer.
    I64(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(Arc<str>),
}

impl Scalar {
    /// The value at `i` of `array` (which must be valid there).
    pub(crate) fn at(array: &dyn Array, i: usize) -> Option<Scalar> {
        if let Some(a) = array.as_primitive_opt::<Float64Type>() {
            return Some(Scalar::F64(a.value(i)));
        }
        if let Some(a) = array.as_primitive_opt::<Int64Type>() {
            return Some(Scalar::I64(a.value(i)));
        }
        if let Some(a) = array.as_boolean_opt() {
            return Some(Scalar::Bool(a.value(i)));
        }
        array.as_string_opt::<i32>().map(|a| Scalar::Str(Arc::from(a.value(i))))
    }

    /// The value as a float, for interpolation.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::F64(v) => Some(*v),
            Scalar::I64(v) => Some(*v as f64),
            _ => None,
        }
    }
}

/// Sum, min and max by type.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Num {
    /// No value yet.
    #[default]
    Empty,
    /// Floats.
    F {
        /// Sum (NaN if any value is).
        sum: f64,
        /// Smallest non-NaN value.
        min: f64,
        /// Largest non-NaN value.
        max: f64,
    },
    /// Integers.
    I {
        /// Exact sum.
        sum: i128,
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
}

impl Num {
    fn merge(&mut self, other: &Num) {
        *self = match (&*self, other) {
            (Num::Empty, o) => o.clone(),
            (_, Num::Empty) => return,
            (Num::F { sum, min, max }, Num::F { sum: s, min: lo, max: hi }) => {
                Num::F { sum: sum + s, min: min.min(*lo), max: max.max(*hi) }
            }
            (Num::I { sum, min, max }, Num::I { sum: s, min: lo, max: hi }) => {
                Num::I { sum: sum + s, min: *min.min(lo), max: *max.max(hi) }
            }
            _ => return,
        };
    }
}

/// Count, mean and sum of squared deviations.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Var {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Var {
    fn of(values: &[f64]) -> Var {
        if values.is_empty() {
            return Var::default();
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        Var { n: values.len() as u64, mean, m2 }
    }

    fn merge(&mut self, o: &Var) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = (self.n + o.n) as f64;
        let delta = o.mean - self.mean;
        let (na, nb) = (self.n as f64, o.n as f64);
        self.mean += delta * nb / n;
        self.m2 += o.m2 + delta * delta * na * nb / n;
        self.n += o.n;
    }
}

/// The state of one input column in one bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Acc {
    /// Non-null values seen.
    pub count: u64,
    num: Num,
    first: Option<(i64, Scalar)>,
    last: Option<(i64, Scalar)>,
    var: Var,
}

impl Acc {
    /// Adds the values of `array` (one segment of rows with timestamps `ts`, all in this bucket).
    pub(crate) fn fold(&mut self, ts: &[i64], array: &ArrayRef, needs: Needs) {
        let valid = array.len() - array.null_count();
        if valid == 0 {
            return;
        }
        self.count += valid as u64;
        let nulls = array.logical_nulls();
        let is_valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
        if needs.sum_min_max {
            self.num.merge(&segment_num(array.as_ref(), valid));
        }
        if needs.first
            && let Some(i) = (0..array.len()).find(|i| is_valid(*i))
            && self.first.as_ref().is_none_or(|(t, _)| ts[i] < *t)
        {
            self.first = Scalar::at(array.as_ref(), i).map(|v| (ts[i], v));
        }
        if needs.last
            && let Some(i) = (0..array.len()).rev().find(|i| is_valid(*i))
            && self.last.as_ref().is_none_or(|(t, _)| ts[i] >= *t)
        {
            self.last = Scalar::at(array.as_ref(), i).map(|v| (ts[i], v));
        }
        if needs.var {
            let values: Vec<f64> = if let Some(a) = array.as_primitive_opt::<Float64Type>() {
                a.iter().flatten().collect()
            } else if let Some(a) = array.as_primitive_opt::<Int64Type>() {
                a.iter().flatten().map(|v| v as f64).collect()
            } else {
                Vec::new()
            };
            self.var.merge(&Var::of(&values));
        }
    }

    /// Adds a whole chunk through its statistics (only valid when `needs.answerable_from_stats()`).
    pub(crate) fn merge_stats(&mut self, stats: &ColumnStats) {
        self.count += stats.non_null;
        let num = match stats.values {
            ValueStats::F64 { min, max, sum } => Num::F { sum, min, max },
            ValueStats::I64 { min, max, sum } => Num::I { sum, min, max },
            ValueStats::Bool { .. } | ValueStats::None => Num::Empty,
        };
        self.num.merge(&num);
    }

    /// Adds another accumulator (a later series, for answers across series).
    pub(crate) fn merge(&mut self, o: &Acc) {
        self.count += o.count;
        self.num.merge(&o.num);
        if let Some((t, v)) = &o.first
            && self.first.as_ref().is_none_or(|(mine, _)| t < mine)
        {
            self.first = Some((*t, v.clone()));
        }
        if let Some((t, v)) = &o.last
            && self.last.as_ref().is_none_or(|(mine, _)| t >= mine)
        {
            self.last = Some((*t, v.clone()));
        }
        self.var.merge(&o.var);
    }

    /// The answer of `function`; `Err(sum)` when an integer result does not fit an i64.
    pub(crate) fn finish(&self, function: AggregateFunction) -> Result<Option<Scalar>, i128> {
        use AggregateFunction as F;
        if function == F::Count {
            return Ok(Some(Scalar::I64(i64::try_from(self.count).unwrap_or(i64::MAX))));
        }
        if self.count == 0 {
            return Ok(None);
        }
        let n = self.count as f64;
        Ok(match (function, &self.num) {
            (F::Sum, Num::F { sum, .. }) => Some(Scalar::F64(*sum)),
            (F::Sum, Num::I { sum, .. }) => Some(Scalar::I64(i64::try_from(*sum).map_err(|_| *sum)?)),
            (F::Min, Num::F { min, .. }) => Some(Scalar::F64(*min)),
            (F::Min, Num::I { min, .. }) => Some(Scalar::I64(*min)),
            (F::Max, Num::F { max, .. }) => Some(Scalar::F64(*max)),
            (F::Max, Num::I { max, .. }) => Some(Scalar::I64(*max)),
            (F::Avg, Num::F { sum, .. }) => Some(Scalar::F64(sum / n)),
            (F::Avg, Num::I { sum, .. }) => Some(Scalar::F64(*sum as f64 / n)),
            (F::First, _) => self.first.as_ref().map(|(_, v)| v.clone()),
            (F::Last, _) => self.last.as_ref().map(|(_, v)| v.clone()),
            (F::Stddev, _) if self.var.n >= 2 => Some(Scalar::F64((self.var.m2 / (self.var.n - 1) as f64).sqrt())),
            _ => None,
        })
    }
}

/// Sum, min and max of the valid values of a numeric array with `valid` non-null values.
fn segment_num(array: &dyn Array, valid: usize) -> Num {
    if let Some(a) = array.as_primitive_opt::<Float64Type>() {
        let mut it = a.iter().flatten();
        let Some(first) = it.next() else { return Num::Empty };
        let (sum, min, max) = if valid == a.len() {
            let v = a.values();
            v.iter().skip(1).fold((first, first, first), |(s, lo, hi), x| (s + x, lo.min(*x), hi.max(*x)))
        } else {
            it.fold((first, first, first), |(s, lo, hi), x| (s + x, lo.min(x), hi.max(x)))
        };
        return Num::F { sum, min, max };
    }
    if let Some(a) = array.as_primitive_opt::<Int64Type>() {
        let fold = |(s, lo, hi): (i128, i64, i64), x: i64| (s + i128::from(x), lo.min(x), hi.max(x));
        let (sum, min, max) = if valid == a.len() {
            a.values().iter().fold((0, i64::MAX, i64::MIN), |acc, x| fold(acc, *x))
        } else {
            a.iter().flatten().fold((0, i64::MAX, i64::MIN), fold)
        };
        return Num::I { sum, min, max };
    }
    Num::Empty
}

#[cfg(test)]
mod tests {
    use arrow_array::{Float64Array, Int64Array};

    use super::*;

    fn all() -> Needs {
        Needs { sum_min_max: true, first: true, last: true, var: true }
    }

    #[test]
    fn folding_segments_equals_folding_everything() {
        let values: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0), Some(4.0), Some(0.25)]));
        let ts = [10, 20, 30, 40, 50];
        let mut whole = Acc::default();
        whole.fold(&ts, &values, all());
        let mut parts = Acc::default();
        parts.fold(&ts[..2], &values.slice(0, 2), all());
        let mut tail = Acc::default();
        tail.fold(&ts[2..], &values.slice(2, 3), all());
        parts.merge(&tail);
        for f in [AggregateFunction::Count, AggregateFunction::Sum, AggregateFunction::Min, AggregateFunction::Max] {
            assert_eq!(parts.finish(f), whole.finish(f), "{f:?}");
        }
        assert_eq!(whole.finish(AggregateFunction::First), Ok(Some(Scalar::F64(1.5))));
        assert_eq!(whole.finish(AggregateFunction::Last), Ok(Some(Scalar::F64(0.25))));
        assert_eq!(whole.finish(AggregateFunction::Sum), Ok(Some(Scalar::F64(3.75))));
        let Ok(Some(Scalar::F64(sd))) = parts.finish(AggregateFunction::Stddev) else { panic!("no stddev") };
        let mean = 3.75 / 4.0;
        let m2: f64 = [1.5f64, -2.0, 4.0, 0.25].iter().map(|v| (v - mean) * (v - mean)).sum();
        assert!((sd - (m2 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn statistics_feed_the_same_state_as_values() {
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX), None, Some(-3), Some(i64::MAX)]));
        let needs = Needs { sum_min_max: true, ..Needs::default() };
        let mut decoded = Acc::default();
        decoded.fold(&[1, 2, 3, 4], &values, needs);
        let mut pushed = Acc::default();
        pushed.merge_stats(&ColumnStats::of(values.as_ref()));
        assert_eq!(decoded, pushed);
        assert_eq!(pushed.finish(AggregateFunction::Sum), Err(2 * i128::from(i64::MAX) - 3));
        assert_eq!(pushed.finish(AggregateFunction::Min), Ok(Some(Scalar::I64(-3))));
    }
}
