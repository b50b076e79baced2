//! Column encodings for SSTable pages: the bytes of one column of one page, compression included.
//!
//! The SSTable layer frames and checksums what these functions produce; everything inside is
//! described here. Every encoding starts with a tag byte, so new encodings can be added without
//! breaking old files; readers reject tags they do not know.
//!
//! ```text
//! encode_ints (timestamps, sequence numbers; n values, n known to the reader):
//! +-----+--------+---------------------------+
//! | tag | n      | body (see ints)           |
//! | u8  | varint |                           |
//! +-----+--------+---------------------------+
//!
//! encode_array (one column of n rows, n known to the reader):
//! +-----+--------+--------------------+--------------------------------------------+
//! | tag | n      | validity           | body for the k valid rows (k = n - nulls)  |
//! | u8  | varint | flag u8 [+ bitmap] |                                            |
//! +-----+--------+--------------------+--------------------------------------------+
//!
//! n, the row count, repeats what the reader is told, as a check that it reads the right bytes.
//!
//! tag  encoding            column type   body described in
//!  1   INT_DELTA_OF_DELTA  i64           ints      (timestamps)
//!  2   INT_DELTA           i64           ints      (sequence numbers, counters, walks)
//!  3   INT_FOR             i64           ints      (frame of reference)
//!  4   FLOAT_DECIMAL       f64           floats    (decimal scaling + exceptions)
//!  5   FLOAT_XOR           f64           floats    (fallback for non-decimal pages)
//!  6   BOOL_BITMAP         bool          bools
//!  7   STRING_DICT         string        strings   (few distinct values)
//!  8   STRING_PLAIN        string        strings
//! ```
//!
//! Below the tags, integer-like data (deltas, scaled decimals, lengths, dictionary indices) goes
//! through `planes`: optional low bits split off, then one plane of packed 1/2/4-bit symbols or
//! byte planes, each its own pack, with the few wide outliers (series boundaries) as patches.
//! Every run of bytes is a `pack`: a fill byte, raw, or its own zstd frame, whichever is
//! smallest. All multi-byte integers are little-endian; varints are LEB128. Decoders never panic
//! on any input and never allocate more than the row count (given by the caller) or a bounded
//! multiple of the input length allows.
//!
//! Sizes on the shared workloads (`cargo run --release -p isobar-benches --bin
//! encoding_sizes`, 8192-row pages of 1000-row series, zstd level 3): the ten IoT columns average
//! 0.617 bytes per value and their timestamps 0.008 bytes per row (the generator's entropy is
//! about 0.60); the six weather columns average 0.378.

mod bools;
mod error;
mod floats;
mod ints;
mod pack;
mod planes;
mod strings;
mod validity;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array};
use arrow_buffer::{Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::DataType;

pub use error::EncodingError;

use crate::codec::{ByteReader, put_varint};
use crate::schema::ColumnType;

/// The tag bytes that start every encoding (stable: they are written to files).
mod tag {
    pub(super) const INT_DELTA_OF_DELTA: u8 = 1;
    pub(super) const INT_DELTA: u8 = 2;
    pub(super) const INT_FOR: u8 = 3;
    pub(super) const FLOAT_DECIMAL: u8 = 4;
    pub(super) const FLOAT_XOR: u8 = 5;
    pub(super) const BOOL_BITMAP: u8 = 6;
    pub(super) const STRING_DICT: u8 = 7;
    pub(super) const STRING_PLAIN: u8 = 8;
}

/// How a sequence of integers is expected to behave, which picks the candidate encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    /// Timestamps: regular steps, so delta-of-delta (plain delta when smaller).
    Timestamp,
    /// Sequence numbers: mostly increasing, so delta.
    Sequence,
}

/// Appends the encoding of `values` to `out`; [`decode_ints`] reads it back given `values.len()`.
pub fn encode_ints(values: &[i64], kind: IntKind, out: &mut Vec<u8>, zstd_level: i32) {
    let candidates: &[u8] = match kind {
        IntKind::Timestamp => &[tag::INT_DELTA_OF_DELTA, tag::INT_DELTA],
        IntKind::Sequence => &[tag::INT_DELTA],
    };
    let mut body = Vec::new();
    let t = ints::put_best_ints(&mut body, values, candidates, zstd_level);
    out.push(t);
    put_varint(out, values.len() as u64);
    out.extend_from_slice(&body);
}

/// Decodes `n` integers written by [`encode_ints`].
pub fn decode_ints(bytes: &[u8], n: usize) -> Result<Vec<i64>, EncodingError> {
    let mut r = ByteReader::new(bytes);
    let t = r.u8("integer encoding tag")?;
    check_rows(&mut r, n)?;
    let values = ints::read_int_body(&mut r, t, n)?;
    finish(&r)?;
    Ok(values)
}

/// Appends the encoding of a column (values and nulls) to `out`.
///
/// Accepts Arrow `Float64`, `Int64`, `Boolean` and `Utf8` arrays; nothing is appended on error.
pub fn encode_array(array: &dyn Array, out: &mut Vec<u8>, zstd_level: i32) -> Result<(), EncodingError> {
    let nulls = array.logical_nulls().filter(|n| n.null_count() > 0);
    let valid = |i: usize| nulls.as_ref().is_none_or(|b| b.is_valid(i));
    let mut body = Vec::new();
    let t = match array.data_type() {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            let values = dense(a.values(), nulls.as_ref());
            floats::put_floats(&mut body, &values, zstd_level)
        }
        DataType::Int64 => {
            let a = array.as_primitive::<Int64Type>();
            let values = dense(a.values(), nulls.as_ref());
            let candidates = [tag::INT_DELTA, tag::INT_FOR, tag::INT_DELTA_OF_DELTA];
            ints::put_best_ints(&mut body, &values, &candidates, zstd_level)
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            let values = a.values().iter().enumerate().filter(|&(i, _)| valid(i)).map(|(_, v)| v);
            bools::put_bools(&mut body, values, zstd_level);
            tag::BOOL_BITMAP
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            let values: Vec<&str> = (0..a.len()).filter(|&i| valid(i)).map(|i| a.value(i)).collect();
            strings::put_strings(&mut body, &values, zstd_level)
        }
        other => return Err(EncodingError::UnsupportedType(other.clone())),
    };
    out.push(t);
    put_varint(out, array.len() as u64);
    validity::put_validity(out, array, zstd_level);
    out.extend_from_slice(&body);
    Ok(())
}

/// The values of the valid rows, in order.
fn dense<T: Copy>(values: &[T], nulls: Option<&NullBuffer>) -> Vec<T> {
    match nulls {
        None => values.to_vec(),
        Some(nulls) => nulls.valid_indices().filter_map(|i| values.get(i).copied()).collect(),
    }
}

/// Decodes a column of `n` rows of type `ty` written by [`encode_array`].
///
/// Null rows hold 0, `false` or `""` under the null bitmap.
pub fn decode_array(bytes: &[u8], ty: ColumnType, n: usize) -> Result<ArrayRef, EncodingError> {
    let mut r = ByteReader::new(bytes);
    let t = r.u8("column encoding tag")?;
    let expected = match t {
        tag::INT_DELTA_OF_DELTA | tag::INT_DELTA | tag::INT_FOR => ColumnType::I64,
        tag::FLOAT_DECIMAL | tag::FLOAT_XOR => ColumnType::F64,
        tag::BOOL_BITMAP => ColumnType::Bool,
        tag::STRING_DICT | tag::STRING_PLAIN => ColumnType::String,
        _ => {
            return Err(EncodingError::UnknownTag { what: "column encoding", tag: t });
        }
    };
    if expected != ty {
        return Err(EncodingError::TypeMismatch { tag: t, expected: ty });
    }
    check_rows(&mut r, n)?;
    let nulls = validity::read_validity(&mut r, n)?;
    let k = validity::valid_count(nulls.as_ref(), n);
    let array: ArrayRef = match ty {
        ColumnType::F64 => {
            let bits = validity::scatter(floats::read_floats(&mut r, t, k)?, nulls.as_ref());
            let values = ScalarBuffer::<f64>::new(Buffer::from_vec(bits), 0, n);
            Arc::new(Float64Array::new(values, nulls))
        }
        ColumnType::I64 => {
            let v = validity::scatter(ints::read_int_body(&mut r, t, k)?, nulls.as_ref());
            Arc::new(Int64Array::new(ScalarBuffer::from(v), nulls))
        }
        ColumnType::Bool => {
            let values = bools::read_bools(&mut r, k, nulls.as_ref())?;
            Arc::new(BooleanArray::new(values, nulls))
        }
        ColumnType::String => Arc::new(strings::read_strings(&mut r, t, k, n, nulls)?),
    };
    finish(&r)?;
    Ok(array)
}

/// Reads the stored row count and fails unless it is `n`.
fn check_rows(r: &mut ByteReader<'_>, n: usize) -> Result<(), EncodingError> {
    let got = r.varint("row count")?;
    if got != n as u64 {
        let got = usize::try_from(got).unwrap_or(usize::MAX);
        return Err(EncodingError::LengthMismatch { what: "row count", expected: n, got });
    }
    Ok(())
}

/// Fails if bytes are left after the encoding.
fn finish(r: &ByteReader<'_>) -> Result<(), EncodingError> {
    if r.is_empty() { Ok(()) } else { Err(EncodingError::TrailingBytes { offset: r.position(), count: r.remaining() }) }
}
