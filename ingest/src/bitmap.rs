//! Validity bitmaps as they travel on the wire.
//!
//! Layout: bit `i` of the bitmap is bit `i % 8` (counted from the least significant bit) of byte
//! `i / 8`; it is set when row `i` has a value. A bitmap for `n` rows is exactly `ceil(n / 8)`
//! bytes and the bits past row `n - 1` are clear. An empty bitmap means every row has a value.
//!
//! ```text
//! rows:    0 1 2 3 4 5 6 7 | 8 9
//! byte 0:  b0 .. b7         (row 0 = 0x01, row 7 = 0x80)
//! byte 1:  b0 b1, b2..b7 must be 0
//! ```

/// Why a wire bitmap was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BitmapError {
    /// The bitmap has another length than `ceil(rows / 8)` bytes.
    #[error("validity bitmap has {got} bytes; {rows} rows need {expected} (or none)")]
    Length {
        /// Number of rows the bitmap describes.
        rows: usize,
        /// `ceil(rows / 8)`.
        expected: usize,
        /// Length sent.
        got: usize,
    },
    /// A bit past the last row is set.
    #[error("validity bitmap marks row {row} but there are only {rows} rows")]
    Padding {
        /// The first set bit at or past `rows`.
        row: usize,
        /// Number of rows.
        rows: usize,
    },
}

/// Bytes a bitmap of `rows` rows takes.
pub fn byte_len(rows: usize) -> usize {
    rows.div_ceil(8)
}

/// Decodes the bitmap of a column of `rows` rows. Returns `None` when every row has a value
/// (an empty bitmap, or one with every bit set), else one flag per row.
pub fn unpack(bytes: &[u8], rows: usize) -> Result<Option<Vec<bool>>, BitmapError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let expected = byte_len(rows);
    if bytes.len() != expected {
        return Err(BitmapError::Length { rows, expected, got: bytes.len() });
    }
    let tail_bits = rows % 8;
    if tail_bits != 0
        && let Some(last) = bytes.last()
    {
        let padding = last >> tail_bits;
        if padding != 0 {
            let row = rows + padding.trailing_zeros() as usize;
            return Err(BitmapError::Padding { row, rows });
        }
    }
    let flags: Vec<bool> = (0..rows).map(|i| bytes.get(i / 8).is_some_and(|byte| byte & (1 << (i % 8)) != 0)).collect();
    if flags.iter().all(|f| *f) { Ok(None) } else { Ok(Some(flags)) }
}

/// Encodes one flag per row as a wire bitmap (`ceil(len / 8)` bytes, padding bits clear).
pub fn pack(flags: &[bool]) -> Vec<u8> {
    let mut bytes = vec![0u8; byte_len(flags.len())];
    for (byte, chunk) in bytes.iter_mut().zip(flags.chunks(8)) {
        for (bit, flag) in chunk.iter().enumerate() {
            if *flag {
                *byte |= 1 << bit;
            }
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_lsb_first() {
        let flags = [true, false, false, false, false, false, false, true, false, true];
        let bytes = pack(&flags);
        assert_eq!(bytes, vec![0x81, 0x02]);
        assert_eq!(unpack(&bytes, 10), Ok(Some(flags.to_vec())));
    }

    #[test]
    fn empty_or_full_bitmap_means_all_valid() {
        assert_eq!(unpack(&[], 5), Ok(None));
        assert_eq!(unpack(&[0x1f], 5), Ok(None));
        assert_eq!(unpack(&[0xff, 0xff], 16), Ok(None));
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(unpack(&[0, 0], 8), Err(BitmapError::Length { rows: 8, expected: 1, got: 2 }));
        assert_eq!(unpack(&[0], 9), Err(BitmapError::Length { rows: 9, expected: 2, got: 1 }));
        assert_eq!(unpack(&[1], 0), Err(BitmapError::Length { rows: 0, expected: 0, got: 1 }));
    }

    #[test]
    fn set_padding_bits_are_refused_with_the_row() {
        assert_eq!(unpack(&[0b0010_0001], 3), Err(BitmapError::Padding { row: 5, rows: 3 }));
        assert_eq!(unpack(&[0xff, 0b10], 9), Err(BitmapError::Padding { row: 9, rows: 9 }));
    }

    #[test]
    fn pack_and_unpack_agree_for_every_length() {
        for rows in 1..=20 {
            let flags: Vec<bool> = (0..rows).map(|i| i % 3 != 1).collect();
            let want = if rows == 1 { None } else { Some(flags.clone()) };
            assert_eq!(unpack(&pack(&flags), rows), Ok(want), "rows {rows}");
        }
    }
}
