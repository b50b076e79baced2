//! Byte planes: a sequence of `n` unsigned 64-bit words (already delta- or zigzag-transformed, so
//! mostly small) stored as one block per byte position, plus patches for the few wide words.
//!
//! ```text
//! words of n values (n is known to the reader):
//! +-----+------------------+-----+------------------+-----+--------+---------------------------+
//! | b   | low plane        | w   | plane 0          | ... | x      | patches (only if x > 0)   |
//! | u8  | block of n bytes | u8  | block of n bytes |     | varint | varint m, block of m bytes|
//! |     | (only if b > 0)  |     |                  |     |        |                           |
//! +-----+------------------+-----+------------------+-----+--------+---------------------------+
//! b        low bits split off, 0..=7; the low plane holds `word & (2^b - 1)` of every word, and
//!          the planes and patches below describe `high = word >> b`
//! w        number of planes, 0..=8; plane k holds byte k (little-endian order) of every high
//! x        number of patched words, 0..=n (0 when w = 8)
//! patches  x pairs (varint gap, varint high): the word at position p gets `high << (b + 8w)`
//!          (ORed), where p = gap for the first pair and previous p + 1 + gap after it; positions
//!          are strictly increasing and below n, high is non-zero and fits in 64 - b - 8w bits.
//!          m <= 20 x.
//! ```
//!
//! The writer picks `w` by size: it compresses every plane the widest word needs, then for each
//! narrower `w` compares the remaining planes' size with the size of the patch list that replaces
//! them. A page holding several series has a handful of large deltas at series boundaries; they
//! become patches instead of forcing mostly-zero high planes.
//!
//! Splitting off `b` low bits matters when typical words need a little more than a byte: their
//! low bits are nearly uniform (stored at exactly `b` bits by zstd's Huffman stage), and the high
//! part becomes one peaked byte that Huffman codes close to its entropy, where plain byte planes
//! would leave a near-uniform low byte and a very skewed second byte Huffman codes poorly. The
//! writer tries no split and, when the words' 98th-percentile width t is at least 7 bits, splits of
//! t - 6, t - 5 and t - 4 bits (at most 7), and keeps the smallest result.

use super::EncodingError;
use super::block::{Block, put_block, read_block, read_block_vec};
use crate::codec::{ByteReader, put_varint};

/// Appends `words` as byte planes, with the low-bit split that gives the smallest result.
pub(super) fn put_words(out: &mut Vec<u8>, words: &[u64], zstd_level: i32) {
    let n = words.len();
    // Bit width that all but ~2% of the words fit in.
    let mut bit_widths = [0usize; 65];
    for &v in words {
        bit_widths[64 - v.leading_zeros() as usize] += 1;
    }
    let mut wider = 0;
    let mut typical = 64;
    while typical > 0 && wider + bit_widths[typical] <= n / 50 {
        wider += bit_widths[typical];
        typical -= 1;
    }
    let mut best = Vec::new();
    put_split(&mut best, words, 0, zstd_level);
    if typical >= 7 {
        for b in [typical - 6, typical - 5, typical - 4] {
            let b = b.min(7);
            let mut enc = Vec::new();
            put_split(&mut enc, words, b, zstd_level);
            if enc.len() < best.len() {
                best = enc;
            }
        }
    }
    out.extend_from_slice(&best);
}

/// Appends `words` with `b` low bits split off.
fn put_split(out: &mut Vec<u8>, words: &[u64], b: usize, zstd_level: i32) {
    out.push(b as u8);
    if b == 0 {
        return put_planes(out, words, zstd_level);
    }
    let mask = (1u64 << b) - 1;
    let low: Vec<u8> = words.iter().map(|&v| (v & mask) as u8).collect();
    put_block(out, &low, zstd_level);
    let high: Vec<u64> = words.iter().map(|&v| v >> b).collect();
    put_planes(out, &high, zstd_level);
}

/// Appends `words` as planes and patches (from `w` on, in the layout above).
fn put_planes(out: &mut Vec<u8>, words: &[u64], zstd_level: i32) {
    let n = words.len();
    // widths[b] = number of words needing exactly b bytes.
    let mut widths = [0usize; 9];
    for &v in words {
        widths[byte_width(v)] += 1;
    }
    let max_w = (0..=8).rev().find(|&b| widths[b] > 0).unwrap_or(0);
    let mut planes: Vec<Vec<u8>> = Vec::with_capacity(max_w);
    let mut plane = vec![0u8; n];
    for k in 0..max_w {
        for (p, &v) in plane.iter_mut().zip(words) {
            *p = (v >> (8 * k)) as u8;
        }
        let mut enc = Vec::new();
        put_block(&mut enc, &plane, zstd_level);
        planes.push(enc);
    }
    // Best width: all planes, or fewer planes plus patches when few words are wider.
    let mut best_w = max_w;
    let mut best_patches = Vec::new();
    let mut best_cost = planes.iter().map(Vec::len).sum::<usize>();
    let mut wider = 0usize;
    for w in (0..max_w).rev() {
        wider += widths[w + 1];
        if wider > n / 8 + 1 {
            break;
        }
        let patches = encode_patches(words, w, wider, zstd_level);
        let cost = planes[..w].iter().map(Vec::len).sum::<usize>() + patches.len();
        if cost < best_cost {
            best_cost = cost;
            best_w = w;
            best_patches = patches;
        }
    }
    out.push(best_w as u8);
    for p in &planes[..best_w] {
        out.extend_from_slice(p);
    }
    if best_w == max_w {
        out.push(0);
    } else {
        out.extend_from_slice(&best_patches);
    }
}

/// Bytes needed for `v` (0 for zero).
fn byte_width(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(8)
}

/// The `x`, `m` and patch block for words wider than `w` bytes (`count` of them).
fn encode_patches(words: &[u64], w: usize, count: usize, zstd_level: i32) -> Vec<u8> {
    let mut list = Vec::with_capacity(count * 4);
    let mut next = 0usize;
    for (i, &v) in words.iter().enumerate() {
        let high = v >> (8 * w);
        if high != 0 {
            put_varint(&mut list, (i - next) as u64);
            put_varint(&mut list, high);
            next = i + 1;
        }
    }
    let mut out = Vec::with_capacity(list.len() + 12);
    put_varint(&mut out, count as u64);
    put_varint(&mut out, list.len() as u64);
    put_block(&mut out, &list, zstd_level);
    out
}

/// Reads `n` words written by [`put_words`]; each `i64` holds the word's bits.
pub(super) fn read_words(
    r: &mut ByteReader<'_>,
    n: usize,
    what: &'static str,
) -> Result<Vec<i64>, EncodingError> {
    let b = u32::from(r.u8(what)?);
    if b > 7 {
        let got = u64::from(b);
        return Err(EncodingError::OutOfRange {
            what: "low bits",
            got,
            max: 7,
        });
    }
    let mut out = vec![0i64; n];
    let mut scratch = Vec::new();
    if b > 0 {
        or_block(r, &mut out, 0, (1 << b) - 1, what, &mut scratch)?;
    }
    let w = usize::from(r.u8(what)?);
    if w > 8 {
        return Err(EncodingError::OutOfRange {
            what: "plane count",
            got: w as u64,
            max: 8,
        });
    }
    for k in 0..w {
        or_block(r, &mut out, b + 8 * k as u32, 0xff, what, &mut scratch)?;
    }
    let x = r.len(if w == 8 { 0 } else { n }, "patch count")?;
    if x > 0 {
        let m = r.len(x.saturating_mul(20), "patch list length")?;
        let list = read_block_vec(r, m, "patch list")?;
        apply_patches(&list, x, b + 8 * w as u32, &mut out)?;
    }
    Ok(out)
}

/// Reads a block of `out.len()` bytes and ORs `(byte & mask) << shift` into `out`.
fn or_block(
    r: &mut ByteReader<'_>,
    out: &mut [i64],
    shift: u32,
    mask: u8,
    what: &'static str,
    scratch: &mut Vec<u8>,
) -> Result<(), EncodingError> {
    match read_block(r, out.len(), what, scratch)? {
        Block::Fill(byte) => {
            let add = i64::from(byte & mask) << shift;
            if add != 0 {
                out.iter_mut().for_each(|o| *o |= add);
            }
        }
        Block::Bytes(bytes) => {
            for (o, &byte) in out.iter_mut().zip(bytes) {
                *o |= i64::from(byte & mask) << shift;
            }
        }
    }
    Ok(())
}

/// ORs the `x` patches of `list`, shifted left by `shift`, into `out`.
fn apply_patches(list: &[u8], x: usize, shift: u32, out: &mut [i64]) -> Result<(), EncodingError> {
    let mut pr = ByteReader::new(list);
    let mut next = 0u64;
    let n = out.len() as u64;
    for _ in 0..x {
        let gap = pr.varint("patch gap")?;
        let pos = next.saturating_add(gap);
        let high = pr.varint("patch value")?;
        if high == 0 || (high << shift) >> shift != high {
            return Err(EncodingError::OutOfRange {
                what: "patch value",
                got: high,
                max: u64::MAX >> shift,
            });
        }
        match usize::try_from(pos).ok().and_then(|p| out.get_mut(p)) {
            Some(slot) => *slot |= (high << shift) as i64,
            None => {
                return Err(EncodingError::BadPosition {
                    what: "patch",
                    position: pos,
                    limit: n,
                });
            }
        }
        next = pos + 1;
    }
    if !pr.is_empty() {
        return Err(EncodingError::TrailingBytes {
            offset: pr.position(),
            count: pr.remaining(),
        });
    }
    Ok(())
}
