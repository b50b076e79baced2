//! Booleans: a bitmap of the valid rows' values.
//!
//! ```text
//! BOOL_BITMAP body (k values): pack of ceil(k / 8) bytes, bit i (LSB first) = value i
//! ```

use arrow_buffer::{BooleanBuffer, BooleanBufferBuilder, Buffer, NullBuffer};

use super::EncodingError;
use super::pack::{put_pack, read_pack_vec};
use crate::codec::ByteReader;

/// Appends the bitmap of `values` (the valid rows' values, in order).
pub(super) fn put_bools(out: &mut Vec<u8>, values: impl Iterator<Item = bool>, zstd_level: i32) {
    let mut bytes = Vec::new();
    for (i, v) in values.enumerate() {
        if i % 8 == 0 {
            bytes.push(0u8);
        }
        if let Some(b) = bytes.last_mut() {
            *b |= u8::from(v) << (i % 8);
        }
    }
    put_pack(out, &bytes, zstd_level);
}

/// Reads `k` values and spreads them over the rows that `nulls` marks valid (all when `None`).
pub(super) fn read_bools(
    r: &mut ByteReader<'_>,
    k: usize,
    nulls: Option<&NullBuffer>,
) -> Result<BooleanBuffer, EncodingError> {
    let bytes = read_pack_vec(r, k.div_ceil(8), "boolean bitmap")?;
    let dense = BooleanBuffer::new(Buffer::from_vec(bytes), 0, k);
    Ok(match nulls {
        None => dense,
        Some(nulls) => {
            let mut b = BooleanBufferBuilder::new(nulls.len());
            b.append_n(nulls.len(), false);
            for (i, v) in nulls.valid_indices().zip(dense.iter()) {
                if v {
                    b.set_bit(i, true);
                }
            }
            b.finish()
        }
    })
}
