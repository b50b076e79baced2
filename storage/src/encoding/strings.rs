//! Strings: a dictionary when few values are distinct, else lengths plus concatenated bytes.
//!
//! ```text
//! STRING_DICT body (k values):
//! +--------+------------+--------------------------+-----------+
//! | D      | words(D)   | pack of T bytes         | words(k)  |
//! | varint | entry len  | entries, concatenated    | entry idx |
//! +--------+------------+--------------------------+-----------+
//! 1 <= D <= k; T = sum of entry lengths <= i32::MAX; every index < D; entries in order of first
//! use, each valid UTF-8
//!
//! STRING_PLAIN body (k values):
//! +------------+-------------------------+
//! | words(k)   | pack of T bytes        |
//! | value len  | values, concatenated    |
//! +------------+-------------------------+
//! T = sum of lengths <= i32::MAX
//! ```
//!
//! Byte packs are zstd-compressed when that helps (see `pack`); lengths and indices use byte
//! planes, so constant lengths and runs of one index cost almost nothing.

use std::collections::HashMap;

use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use super::pack::{put_pack, read_pack_vec};
use super::planes::{put_words, read_words};
use super::{EncodingError, tag};
use crate::codec::{ByteReader, put_varint};

/// Appends the body of the better string encoding of `values` (valid rows only) and returns its
/// tag.
pub(super) fn put_strings(out: &mut Vec<u8>, values: &[&str], zstd_level: i32) -> u8 {
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let mut entries: Vec<&str> = Vec::new();
    let mut indices = Vec::with_capacity(values.len());
    for &v in values {
        let id = *ids.entry(v).or_insert_with(|| {
            entries.push(v);
            entries.len() as u64 - 1
        });
        indices.push(id);
        if entries.len() * 2 > values.len() {
            break;
        }
    }
    if !values.is_empty() && entries.len() * 2 <= values.len() {
        put_varint(out, entries.len() as u64);
        put_concat(out, &entries, zstd_level);
        put_words(out, &indices, zstd_level);
        tag::STRING_DICT
    } else {
        put_concat(out, values, zstd_level);
        tag::STRING_PLAIN
    }
}

/// Appends the lengths as words and the bytes as one pack.
fn put_concat(out: &mut Vec<u8>, values: &[&str], zstd_level: i32) {
    let lens: Vec<u64> = values.iter().map(|s| s.len() as u64).collect();
    put_words(out, &lens, zstd_level);
    put_pack(out, values.concat().as_bytes(), zstd_level);
}

/// Reads `k` lengths and the pack they describe; returns the end offset of each value and the
/// bytes.
fn read_concat(r: &mut ByteReader<'_>, k: usize) -> Result<(Vec<usize>, Vec<u8>), EncodingError> {
    let lens = read_words(r, k, "string lengths")?;
    let mut ends = Vec::with_capacity(k);
    let mut total = 0u64;
    for &len in &lens {
        total = total.saturating_add(len as u64);
        if total > i32::MAX as u64 {
            return Err(EncodingError::OutOfRange { what: "string bytes", got: total, max: i32::MAX as u64 });
        }
        ends.push(total as usize);
    }
    let bytes = read_pack_vec(r, total as usize, "string bytes")?;
    Ok((ends, bytes))
}

/// Reads a string body of encoding `t` with `k` values, spread over the rows `nulls` marks valid.
pub(super) fn read_strings(
    r: &mut ByteReader<'_>,
    t: u8,
    k: usize,
    n: usize,
    nulls: Option<NullBuffer>,
) -> Result<arrow_array::StringArray, EncodingError> {
    let (ends, bytes, indices) = if t == tag::STRING_DICT {
        let d = r.len(k, "dictionary size")?;
        if d == 0 && k > 0 {
            return Err(EncodingError::LengthMismatch { what: "dictionary size", expected: 1, got: 0 });
        }
        let (ends, bytes) = read_concat(r, d)?;
        let mut start = 0;
        for (i, &end) in ends.iter().enumerate() {
            if bytes.get(start..end).is_none_or(|s| std::str::from_utf8(s).is_err()) {
                return Err(EncodingError::InvalidUtf8 { index: i });
            }
            start = end;
        }
        let indices = read_words(r, k, "dictionary indices")?;
        (ends, bytes, Some(indices))
    } else {
        let (ends, bytes) = read_concat(r, k)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| EncodingError::InvalidUtf8 { index: ends.partition_point(|&end| end <= e.valid_up_to()) })?;
        if let Some(index) = ends.iter().position(|&end| !text.is_char_boundary(end)) {
            return Err(EncodingError::InvalidUtf8 { index });
        }
        (ends, bytes, None)
    };
    let span = |i: usize| {
        let start = if i == 0 { 0 } else { ends.get(i - 1).copied().unwrap_or(0) };
        start..ends.get(i).copied().unwrap_or(start)
    };
    // Row i's value is value number `j` among the valid rows.
    let valid = |i: usize| nulls.as_ref().is_none_or(|b| b.is_valid(i));
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    let (values, total) = match &indices {
        None => {
            let mut j = 0;
            for i in 0..n {
                if valid(i) {
                    j += 1;
                }
                offsets.push(if j == 0 { 0 } else { span(j - 1).end as i32 });
            }
            (bytes, ends.last().copied().unwrap_or(0))
        }
        Some(indices) => {
            // Check every index and the output size before allocating anything.
            let d = ends.len() as u64;
            let mut size = 0u64;
            for &idx in indices {
                let idx = idx as u64;
                if idx >= d {
                    let max = d.saturating_sub(1);
                    return Err(EncodingError::OutOfRange { what: "dictionary index", got: idx, max });
                }
                size += span(idx as usize).len() as u64;
            }
            if size > i32::MAX as u64 {
                return Err(EncodingError::StringsTooLarge { bytes: size as usize });
            }
            let mut out = Vec::with_capacity(size as usize);
            let mut it = indices.iter();
            for i in 0..n {
                if valid(i)
                    && let Some(&idx) = it.next()
                {
                    out.extend_from_slice(bytes.get(span(idx as usize)).unwrap_or_default());
                }
                offsets.push(out.len() as i32);
            }
            let total = out.len();
            (out, total)
        }
    };
    if values.len() != total {
        return Err(EncodingError::LengthMismatch { what: "string bytes", expected: total, got: values.len() });
    }
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    arrow_array::StringArray::try_new(offsets, Buffer::from_vec(values), nulls)
        .map_err(|_| EncodingError::InvalidUtf8 { index: 0 })
}
