//! Null bitmaps: stored only when a column has nulls; values are encoded for valid rows only.
//!
//! ```text
//! validity of n rows (n is known to the reader):
//! +-------+------------------------------------------------------------+
//! | flag  | bitmap (only if flag = 1)                                  |
//! | u8    | pack of ceil(n / 8) bytes, bit i (LSB first) = row i valid|
//! +-------+------------------------------------------------------------+
//! flag 0: every row is valid; flag 1: the bitmap follows and has at least one zero bit
//! ```

use arrow_array::Array;
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};

use super::EncodingError;
use super::pack::{put_pack, read_pack_vec};
use crate::codec::ByteReader;

/// Appends the validity of `array`.
pub(super) fn put_validity(out: &mut Vec<u8>, array: &dyn Array, zstd_level: i32) {
    match array.logical_nulls().filter(|n| n.null_count() > 0) {
        None => out.push(0),
        Some(nulls) => {
            out.push(1);
            let mut bytes = vec![0u8; nulls.len().div_ceil(8)];
            for i in nulls.valid_indices() {
                if let Some(b) = bytes.get_mut(i / 8) {
                    *b |= 1 << (i % 8);
                }
            }
            put_pack(out, &bytes, zstd_level);
        }
    }
}

/// Reads the validity of `n` rows; `None` when every row is valid.
pub(super) fn read_validity(r: &mut ByteReader<'_>, n: usize) -> Result<Option<NullBuffer>, EncodingError> {
    match r.u8("validity flag")? {
        0 => Ok(None),
        1 => {
            let bytes = read_pack_vec(r, n.div_ceil(8), "validity bitmap")?;
            let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(bytes), 0, n));
            if nulls.null_count() == 0 {
                return Err(EncodingError::LengthMismatch {
                    what: "null count of a stored bitmap",
                    expected: 1,
                    got: 0,
                });
            }
            Ok(Some(nulls))
        }
        tag => Err(EncodingError::UnknownTag { what: "validity flag", tag }),
    }
}

/// Number of valid rows.
pub(super) fn valid_count(nulls: Option<&NullBuffer>, n: usize) -> usize {
    nulls.map_or(n, |b| n - b.null_count())
}

/// Spreads the valid rows' values over all `n` rows (null rows get 0).
pub(super) fn scatter(dense: Vec<i64>, nulls: Option<&NullBuffer>) -> Vec<i64> {
    match nulls {
        None => dense,
        Some(nulls) => {
            let mut out = vec![0i64; nulls.len()];
            for (i, v) in nulls.valid_indices().zip(dense) {
                if let Some(o) = out.get_mut(i) {
                    *o = v;
                }
            }
            out
        }
    }
}
