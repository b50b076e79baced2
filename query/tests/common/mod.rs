//! Helpers shared by the integration tests: record batches as comparable rows.

#![allow(dead_code)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
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

/// The value at row `i` of `a`.
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

/// Every row of every batch.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<V>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(b.columns().iter().map(|c| cell(c.as_ref(), i)).collect());
        }
    }
    out
}
