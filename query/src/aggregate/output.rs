//! From buckets to record batches: choosing the rows (non-empty buckets, or every bucket of the
//! range when filling), computing each function, filling empty buckets, building Arrow arrays.
//!
//! Filling: an empty bucket is one where no input column has a value. `null` leaves its
//! aggregates null; `previous` repeats the last non-null answer of that column before it;
//! `linear` interpolates between the nearest non-null answers before and after it (at the
//! bucket starts; integer answers are rounded; non-numeric ones stay null; buckets before the
//! first or after the last answer stay null). `count` of an empty bucket is 0 under every fill.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use isobar_storage::ts_arrow_type;

use super::acc::Scalar;
use super::plan::Plan;
use super::series::{BucketState, Buckets};
use crate::error::{Error, Result};
use crate::queries::{AggregateFunction, Fill, GroupBy};

/// Rows per output batch.
const BATCH_ROWS: usize = 65_536;

/// The schema of an aggregate answer.
pub(crate) fn schema(plan: &Plan) -> SchemaRef {
    let mut fields = Vec::with_capacity(plan.outputs.len() + 2);
    // The `series` column is always there, so the schema does not depend on the grouping;
    // across series (`GroupBy::None`) it is nullable and every value is null.
    fields.push(match plan.group_by {
        GroupBy::Series => crate::resolve::series_field(),
        GroupBy::None => Field::new("series", DataType::Utf8, true),
    });
    fields.push(Field::new("ts", ts_arrow_type(), false));
    fields.extend(plan.outputs.iter().map(|o| Field::new(&o.name, o.data_type.clone(), true)));
    Arc::new(Schema::new(fields))
}

/// The rows of one group: `(bucket ts, state if non-empty)`.
fn rows<'a>(plan: &Plan, buckets: &'a Buckets) -> Vec<(i64, Option<&'a BucketState>)> {
    let present = |s: &'a BucketState| (!s.is_empty()).then_some(s);
    match (plan.fill, &plan.bucket) {
        (Fill::None, _) | (_, None) => buckets
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(b, s)| {
                let ts = if plan.bucket.is_some() {
                    *b
                } else if plan.range.from != i64::MIN {
                    plan.range.from
                } else {
                    s.min_ts
                };
                (ts, Some(s))
            })
            .collect(),
        (_, Some(_)) => {
            let (first, last) = (plan.bucket_of(plan.range.from), plan.bucket_of(plan.range.to.saturating_sub(1)));
            let mut out = Vec::new();
            let mut b = first;
            while b <= last {
                out.push((b, buckets.get(&b).and_then(present)));
                let next = plan.bucket_end(b);
                if next <= b {
                    break;
                }
                b = next;
            }
            out
        }
    }
}

/// Output columns being built.
struct Columns {
    series: Vec<Arc<str>>,
    ts: Vec<i64>,
    values: Vec<Vec<Option<Scalar>>>,
}

/// Builds the answer from groups of buckets (`series` is `None` across series).
pub(crate) fn build(plan: &Plan, groups: &[(Option<Arc<str>>, Buckets)]) -> Result<Vec<RecordBatch>> {
    let mut cols = Columns { series: Vec::new(), ts: Vec::new(), values: vec![Vec::new(); plan.outputs.len()] };
    for (series, buckets) in groups {
        let rows = rows(plan, buckets);
        for (j, out) in plan.outputs.iter().enumerate() {
            let mut vals = Vec::with_capacity(rows.len());
            for (ts, state) in &rows {
                let v = match state {
                    Some(s) => s.accs[out.slot].finish(out.function).map_err(|_| Error::SumOverflow {
                        column: out.input.clone(),
                        bucket_ns: *ts,
                        series: series.as_deref().unwrap_or("*").to_string(),
                    })?,
                    None if out.function == AggregateFunction::Count => Some(Scalar::I64(0)),
                    None => None,
                };
                vals.push(v);
            }
            let filled: Vec<bool> = rows.iter().map(|(_, s)| s.is_none()).collect();
            let ts: Vec<i64> = rows.iter().map(|(t, _)| *t).collect();
            fill(plan.fill, &ts, &filled, &mut vals);
            cols.values[j].extend(vals);
        }
        cols.ts.extend(rows.iter().map(|(t, _)| *t));
        if let Some(s) = series {
            cols.series.extend(std::iter::repeat_n(Arc::clone(s), rows.len()));
        }
    }
    let schema = schema(plan);
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    arrays.push(match plan.group_by {
        GroupBy::Series => Arc::new(StringArray::from_iter_values(cols.series.iter().map(|s| s.as_ref()))),
        GroupBy::None => Arc::new(StringArray::new_null(cols.ts.len())),
    });
    arrays.push(Arc::new(TimestampNanosecondArray::from(cols.ts).with_timezone("UTC")));
    for (out, vals) in plan.outputs.iter().zip(cols.values) {
        arrays.push(array(&out.data_type, vals));
    }
    let batch = RecordBatch::try_new(schema, arrays)?;
    let n = batch.num_rows();
    if n <= BATCH_ROWS {
        return Ok(vec![batch]);
    }
    Ok((0..n).step_by(BATCH_ROWS).map(|i| batch.slice(i, BATCH_ROWS.min(n - i))).collect())
}

/// Fills the rows marked `empty` of one column.
fn fill(fill: Fill, ts: &[i64], empty: &[bool], vals: &mut [Option<Scalar>]) {
    match fill {
        Fill::None | Fill::Null => {}
        Fill::Previous => {
            let mut prev: Option<Scalar> = None;
            for (v, e) in vals.iter_mut().zip(empty) {
                if *e && v.is_none() {
                    v.clone_from(&prev);
                } else if v.is_some() {
                    prev.clone_from(v);
                }
            }
        }
        Fill::Linear => {
            let known: Vec<usize> = (0..vals.len()).filter(|i| !empty[*i] && vals[*i].is_some()).collect();
            let mut k = 0;
            for i in 0..vals.len() {
                while k < known.len() && known[k] < i {
                    k += 1;
                }
                if !empty[i] || vals[i].is_some() || k == 0 || k == known.len() {
                    continue;
                }
                let (p, n) = (known[k - 1], known[k]);
                let (Some(vp), Some(vn)) = (&vals[p], &vals[n]) else { continue };
                let (Some(a), Some(b)) = (vp.as_f64(), vn.as_f64()) else { continue };
                let f = (ts[i] as f64 - ts[p] as f64) / (ts[n] as f64 - ts[p] as f64);
                let v = a + (b - a) * f;
                vals[i] = match vp {
                    Scalar::I64(_) => Some(Scalar::I64(v.round() as i64)),
                    _ => Some(Scalar::F64(v)),
                };
            }
        }
    }
}

/// An Arrow array of `data_type` from scalars.
fn array(data_type: &DataType, vals: Vec<Option<Scalar>>) -> ArrayRef {
    match data_type {
        DataType::Float64 => Arc::new(
            vals.into_iter()
                .map(|v| match v {
                    Some(Scalar::F64(x)) => Some(x),
                    Some(Scalar::I64(x)) => Some(x as f64),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        DataType::Int64 => Arc::new(
            vals.into_iter().map(|v| if let Some(Scalar::I64(x)) = v { Some(x) } else { None }).collect::<Int64Array>(),
        ),
        DataType::Boolean => Arc::new(
            vals.into_iter()
                .map(|v| if let Some(Scalar::Bool(x)) = v { Some(x) } else { None })
                .collect::<BooleanArray>(),
        ),
        _ => Arc::new(
            vals.into_iter()
                .map(|v| if let Some(Scalar::Str(x)) = v { Some(x) } else { None })
                .collect::<Vec<_>>()
                .iter()
                .map(|v| v.as_deref())
                .collect::<StringArray>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_fill_interpolates_between_neighbours_only() {
        let ts = [0, 10, 20, 30, 40];
        let empty = [true, false, true, false, true];
        let mut v = vec![None, Some(Scalar::F64(1.0)), None, Some(Scalar::F64(3.0)), None];
        fill(Fill::Linear, &ts, &empty, &mut v);
        assert_eq!(v, [None, Some(Scalar::F64(1.0)), Some(Scalar::F64(2.0)), Some(Scalar::F64(3.0)), None]);
        let mut v = vec![None, Some(Scalar::I64(1)), None, Some(Scalar::I64(4)), None];
        fill(Fill::Linear, &ts, &empty, &mut v);
        assert_eq!(v[2], Some(Scalar::I64(3)), "2.5 rounds away from zero");
    }

    #[test]
    fn previous_fill_carries_the_last_answer() {
        let empty = [true, false, true, true];
        let mut v = vec![None, Some(Scalar::I64(7)), None, None];
        fill(Fill::Previous, &[0, 1, 2, 3], &empty, &mut v);
        assert_eq!(v, [None, Some(Scalar::I64(7)), Some(Scalar::I64(7)), Some(Scalar::I64(7))]);
    }
}
