//! Tests for the column encodings: chosen encodings and sizes, round trips, corrupt input.
#![allow(clippy::unwrap_used)]

mod choices;
mod corruption;
mod round_trip;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef};

use super::*;
use crate::codec::ByteReader;

pub(super) const LEVEL: i32 = 3;

pub(super) fn round_trip(array: &dyn Array) -> ArrayRef {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    let ty = match array.data_type() {
        DataType::Float64 => ColumnType::F64,
        DataType::Int64 => ColumnType::I64,
        DataType::Boolean => ColumnType::Bool,
        _ => ColumnType::String,
    };
    let back = decode_array(&out, ty, array.len()).expect("decode");
    assert_same(array, back.as_ref());
    back
}

/// Same length, same null positions, same values (floats compared by bits) in valid rows.
pub(super) fn assert_same(a: &dyn Array, b: &dyn Array) {
    assert_eq!(a.len(), b.len(), "length");
    assert_eq!(a.data_type(), b.data_type(), "type");
    for i in 0..a.len() {
        assert_eq!(a.is_valid(i), b.is_valid(i), "validity of row {i}");
        if !a.is_valid(i) {
            continue;
        }
        match a.data_type() {
            DataType::Float64 => {
                let (x, y) = (a.as_primitive::<Float64Type>(), b.as_primitive::<Float64Type>());
                assert_eq!(x.value(i).to_bits(), y.value(i).to_bits(), "row {i}: {} vs {}", x.value(i), y.value(i));
            }
            DataType::Int64 => {
                assert_eq!(a.as_primitive::<Int64Type>().value(i), b.as_primitive::<Int64Type>().value(i), "row {i}");
            }
            DataType::Boolean => {
                assert_eq!(a.as_boolean().value(i), b.as_boolean().value(i), "row {i}")
            }
            _ => assert_eq!(a.as_string::<i32>().value(i), b.as_string::<i32>().value(i), "row {i}"),
        }
    }
}

pub(super) fn tag_of(array: &dyn Array) -> u8 {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    out[0]
}

pub(super) fn encoded_len(array: &dyn Array) -> usize {
    let mut out = Vec::new();
    encode_array(array, &mut out, LEVEL).expect("encode");
    out.len()
}

/// Small deterministic generator for the structured tests.
pub(super) struct SplitMix(pub(super) u64);
impl SplitMix {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(super) fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `series` random walks of `len` rows each, rounded to `decimals`, concatenated.
pub(super) fn walks(series: usize, len: usize, sd: f64, decimals: i32) -> Vec<f64> {
    let mut rng = SplitMix(42);
    let p = 10f64.powi(decimals);
    let mut out = Vec::new();
    for _ in 0..series {
        let mut x = rng.unit() * 100.0;
        for _ in 0..len {
            x += rng.normal() * sd;
            out.push((x * p).round() / p);
        }
    }
    out
}

pub(super) fn words_round_trip(words: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    planes::put_words(&mut out, words, LEVEL);
    let mut r = ByteReader::new(&out);
    let back = planes::read_words(&mut r, words.len(), "test").unwrap();
    assert!(r.is_empty(), "{} bytes left", r.remaining());
    assert_eq!(back.iter().map(|&x| x as u64).collect::<Vec<_>>(), words);
    out
}
