//! Arrow record batches (as scans, aggregates and exports return them) turned into plain rows
//! that tests compare with `assert_eq!`.
//!
//! Two shapes: [`rows`] gives every cell of every column as a comparable [`V`] (floats compared
//! by their bits, so `NaN` and `-0.0` count); [`rows_f64`] and [`values_i64`] pick typed columns
//! by name for tests that know the schema.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::DataType;

/// One cell, comparable (floats by bits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum V {
    /// Null.
    N,
    /// A float's bits.
    F(u64),
    /// An integer or timestamp.
    I(i64),
    /// A boolean.
    B(bool),
    /// A string.
    S(String),
}

impl V {
    /// A float cell.
    pub fn f(x: f64) -> V {
        V::F(x.to_bits())
    }

    /// The float, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            V::F(b) => Some(f64::from_bits(*b)),
            _ => None,
        }
    }
}

/// The value at row `i` of `a` (dictionaries resolved to their values).
///
/// # Panics
///
/// On a type other than f64, i64, timestamp, bool, UTF-8 or a dictionary of those.
pub fn cell(a: &dyn Array, i: usize) -> V {
    if a.is_null(i) {
        return V::N;
    }
    match a.data_type() {
        DataType::Float64 => V::f(a.as_primitive::<Float64Type>().value(i)),
        DataType::Int64 => V::I(a.as_primitive::<Int64Type>().value(i)),
        DataType::Timestamp(..) => V::I(a.as_primitive::<TimestampNanosecondType>().value(i)),
        DataType::Boolean => V::B(a.as_boolean().value(i)),
        DataType::Utf8 => V::S(a.as_string::<i32>().value(i).to_string()),
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            let k = d.normalized_keys()[i];
            cell(d.values().as_ref(), k)
        }
        other => panic!("unexpected type {other}"),
    }
}

/// Every row of every batch, cells in column order.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<V>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(b.columns().iter().map(|c| cell(c.as_ref(), i)).collect());
        }
    }
    out
}

/// The rows of `batches` as `(series, ts)` plus the f64 column `column` (None for null).
///
/// # Panics
///
/// If a batch lacks `series` (UTF-8), `ts` (timestamp ns) or `column` (f64).
pub fn rows_f64(batches: &[RecordBatch], column: &str) -> Vec<(String, i64, Option<f64>)> {
    let mut out = Vec::new();
    for b in batches {
        let series = b.column_by_name("series").expect("series").as_any().downcast_ref::<StringArray>().expect("utf8");
        let ts = b.column_by_name("ts").expect("ts").as_any().downcast_ref::<TimestampNanosecondArray>().expect("ts");
        let values = b.column_by_name(column).expect("column").as_any().downcast_ref::<Float64Array>().expect("f64");
        for i in 0..b.num_rows() {
            out.push((series.value(i).to_owned(), ts.value(i), values.is_valid(i).then(|| values.value(i))));
        }
    }
    out
}

/// The i64 column `column` of `batches` (None for null).
///
/// # Panics
///
/// If a batch lacks `column` or it is not i64.
pub fn values_i64(batches: &[RecordBatch], column: &str) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column_by_name(column).expect("column").as_any().downcast_ref::<Int64Array>().expect("i64");
        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
    }
    out
}

/// Total rows of `batches`.
pub fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, types::Int32Type};
    use arrow_schema::{Field, Schema, TimeUnit};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
            Field::new("temp", DataType::Float64, true),
            Field::new("code", DataType::Int64, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("note", DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), true),
        ]);
        let note: DictionaryArray<Int32Type> = vec![Some("a"), None].into_iter().collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["s1", "s2"])),
            Arc::new(TimestampNanosecondArray::from(vec![10, 20])),
            Arc::new(Float64Array::from(vec![Some(-0.0), None])),
            Arc::new(Int64Array::from(vec![None, Some(7)])),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(note),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
    }

    #[test]
    fn rows_compare_every_cell() {
        let b = batch();
        let one = vec![
            vec![V::S("s1".into()), V::I(10), V::f(-0.0), V::N, V::B(true), V::S("a".into())],
            vec![V::S("s2".into()), V::I(20), V::N, V::I(7), V::N, V::N],
        ];
        assert_eq!(rows(&[b.clone(), b]), [one.clone(), one].concat());
        // Floats compare by bits: -0.0 is not 0.0.
        assert_ne!(V::f(-0.0), V::f(0.0));
        assert_eq!(V::f(1.5).as_f64(), Some(1.5));
        assert_eq!(V::I(1).as_f64(), None);
    }

    #[test]
    fn typed_columns_by_name() {
        let b = batch();
        assert_eq!(
            rows_f64(std::slice::from_ref(&b), "temp"),
            vec![("s1".into(), 10, Some(-0.0)), ("s2".into(), 20, None)]
        );
        assert_eq!(values_i64(std::slice::from_ref(&b), "code"), vec![None, Some(7)]);
        assert_eq!(row_count(&[b.clone(), b]), 4);
    }
}
