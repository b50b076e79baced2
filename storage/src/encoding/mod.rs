//! Column encodings for SSTable pages (placeholder: plain little-endian, no compression).
//!
//! The real time-series encodings (delta-of-delta timestamps, decimal floats, delta + bit-packed
//! integers, bitmaps, dictionaries, each followed by zstd) replace this module behind the same
//! four functions.

use arrow_array::{Array, ArrayRef};

use crate::schema::ColumnType;

/// A page that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad encoded column: {0}")]
pub struct EncodingError(pub String);

/// How a sequence of integers is expected to behave, which picks the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    /// Timestamps: regular steps, delta-of-delta.
    Timestamp,
    /// Sequence numbers: mostly increasing.
    Sequence,
}

/// Appends the encoding of `values` to `out`.
pub fn encode_ints(values: &[i64], _kind: IntKind, out: &mut Vec<u8>, _zstd_level: i32) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes `n` integers written by [`encode_ints`].
pub fn decode_ints(bytes: &[u8], n: usize) -> Result<Vec<i64>, EncodingError> {
    if bytes.len() != n * 8 {
        return Err(EncodingError(format!("expected {} bytes, got {}", n * 8, bytes.len())));
    }
    Ok(bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default())).collect())
}

/// Appends the encoding of a column (values and nulls) to `out`.
pub fn encode_array(array: &dyn Array, out: &mut Vec<u8>, _zstd_level: i32) -> Result<(), EncodingError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    for i in 0..array.len() {
        out.push(u8::from(array.is_valid(i)));
    }
    match array.data_type() {
        arrow_schema::DataType::Float64 => {
            for v in array.as_primitive::<Float64Type>().values() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        arrow_schema::DataType::Int64 => {
            for v in array.as_primitive::<Int64Type>().values() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        arrow_schema::DataType::Boolean => {
            for v in array.as_boolean().values().iter() {
                out.push(u8::from(v));
            }
        }
        arrow_schema::DataType::Utf8 => {
            for v in array.as_string::<i32>().iter() {
                crate::codec::put_str(out, v.unwrap_or(""));
            }
        }
        other => return Err(EncodingError(format!("unsupported type {other}"))),
    }
    Ok(())
}

/// Decodes a column of `n` rows of type `ty` written by [`encode_array`].
pub fn decode_array(bytes: &[u8], ty: ColumnType, n: usize) -> Result<ArrayRef, EncodingError> {
    use std::sync::Arc;
    let e = |x: crate::codec::DecodeError| EncodingError(x.to_string());
    let mut r = crate::codec::ByteReader::new(bytes);
    let valid: Vec<bool> = r.bytes(n, "validity").map_err(e)?.iter().map(|b| *b != 0).collect();
    let nulls = Some(arrow_buffer::NullBuffer::from(valid));
    let array: ArrayRef = match ty {
        ColumnType::F64 => {
            let v: Vec<f64> = (0..n).map(|_| r.f64("f64")).collect::<Result<_, _>>().map_err(e)?;
            Arc::new(arrow_array::Float64Array::new(v.into(), nulls))
        }
        ColumnType::I64 => {
            let v: Vec<i64> = (0..n).map(|_| r.i64("i64")).collect::<Result<_, _>>().map_err(e)?;
            Arc::new(arrow_array::Int64Array::new(v.into(), nulls))
        }
        ColumnType::Bool => {
            let v: Vec<bool> = (0..n).map(|_| r.u8("bool").map(|b| b != 0)).collect::<Result<_, _>>().map_err(e)?;
            Arc::new(arrow_array::BooleanArray::new(v.into(), nulls))
        }
        ColumnType::String => {
            let v: Vec<&str> = (0..n).map(|_| r.str(usize::MAX, "str")).collect::<Result<_, _>>().map_err(e)?;
            let values = arrow_array::StringArray::from(v);
            Arc::new(arrow_array::StringArray::new(values.offsets().clone(), values.values().clone(), nulls))
        }
    };
    if !r.is_empty() {
        return Err(EncodingError("trailing bytes".into()));
    }
    Ok(array)
}
