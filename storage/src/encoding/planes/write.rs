//! Writing words as planes (layout in the parent module).

use super::super::pack::{put_pack, put_plane_pack};
use super::layout::{plane_len, symbol_bits};
use crate::codec::put_varint;

/// Appends `words` as planes, with the low-bit split that gives the smallest result.
pub(in super::super) fn put_words(out: &mut Vec<u8>, words: &[u64], zstd_level: i32) {
    let n = words.len();
    let widths = bit_widths(words);
    // Bit width that all but ~2% of the words fit in.
    let mut wider = 0;
    let mut typical = 64;
    while let Some(&w) = widths.get(typical).filter(|&&w| typical > 0 && wider + w <= n / 50) {
        wider += w;
        typical -= 1;
    }
    let mut best = Vec::new();
    put_split(&mut best, words, 0, zstd_level);
    if typical >= 7 {
        for b in [typical - 6, typical - 5, typical - 4] {
            let mut enc = Vec::new();
            put_split(&mut enc, words, b.min(7) as u32, zstd_level);
            if enc.len() < best.len() {
                best = enc;
            }
        }
    }
    out.extend_from_slice(&best);
}

/// `widths[k]` = number of words whose highest set bit is bit k - 1 (k = 0 for zero).
#[expect(clippy::indexing_slicing, reason = "leading_zeros() of a u64 is at most 64, so the index is in 0..=64")]
fn bit_widths(words: &[u64]) -> [usize; 65] {
    let mut widths = [0usize; 65];
    for &v in words {
        widths[64 - v.leading_zeros() as usize] += 1;
    }
    widths
}

/// Appends `words` with `b` low bits split off.
fn put_split(out: &mut Vec<u8>, words: &[u64], b: u32, zstd_level: i32) {
    out.push(b as u8);
    if b == 0 {
        return put_planes(out, words, zstd_level);
    }
    let mask = (1u64 << b) - 1;
    put_plane_pack(out, &pack(words.iter().map(|&v| (v & mask) as u8), words.len(), symbol_bits(b)), zstd_level);
    let high: Vec<u64> = words.iter().map(|&v| v >> b).collect();
    put_planes(out, &high, zstd_level);
}

/// Packs `n` symbols of `s` bits (1, 2, 4 or 8) into `len = ceil(n * s / 8)` bytes: symbol i
/// goes to byte `i % len`, bits `(i / len) * s ..`.
fn pack(symbols: impl Iterator<Item = u8>, n: usize, s: u32) -> Vec<u8> {
    if s == 8 {
        return symbols.collect();
    }
    let len = plane_len(n, s);
    let mut bytes = vec![0u8; len];
    for (i, sym) in symbols.enumerate() {
        if let Some(b) = bytes.get_mut(i % len) {
            *b |= sym << ((i / len) as u32 * s);
        }
    }
    bytes
}

/// Appends `q`, the planes and the patches, choosing `q` by encoded size.
fn put_planes(out: &mut Vec<u8>, words: &[u64], zstd_level: i32) {
    let n = words.len();
    let widths = bit_widths(words);
    let max_bits = (0..=64).rev().find(|&k| widths.get(k).is_some_and(|w| *w > 0)).unwrap_or(0);
    let wider = |q: u32| widths.iter().skip(q as usize + 1).sum::<usize>();
    let eligible = |q: u32| wider(q) <= n / 8 + 1;
    let mut best: Option<Vec<u8>> = None;
    for q in [0u32, 1, 2, 4].into_iter().filter(|&q| eligible(q)) {
        let mut enc = vec![q as u8];
        if q > 0 {
            let mask = (1u64 << q) - 1;
            let packed = pack(words.iter().map(|&v| (v & mask) as u8), n, q);
            put_plane_pack(&mut enc, &packed, zstd_level);
        }
        put_patches(&mut enc, words, q, wider(q), zstd_level);
        keep(&mut best, enc);
    }
    // Byte planes, one more per candidate; stop once the planes alone cost more than the best.
    let mut planes = Vec::new();
    for k in 0..max_bits.div_ceil(8) {
        let q = 8 * (k as u32 + 1);
        put_plane_pack(&mut planes, &pack(words.iter().map(|&v| (v >> (8 * k)) as u8), n, 8), zstd_level);
        if best.as_ref().is_some_and(|b| planes.len() + 2 >= b.len()) {
            break;
        }
        if eligible(q) {
            let mut enc = Vec::with_capacity(planes.len() + 16);
            enc.push(q as u8);
            enc.extend_from_slice(&planes);
            put_patches(&mut enc, words, q, wider(q), zstd_level);
            keep(&mut best, enc);
        }
    }
    if let Some(enc) = best {
        out.extend_from_slice(&enc);
    }
}

/// Keeps `enc` if it is shorter than the best so far.
fn keep(best: &mut Option<Vec<u8>>, enc: Vec<u8>) {
    if best.as_ref().is_none_or(|b| enc.len() < b.len()) {
        *best = Some(enc);
    }
}

/// Appends `x` and the patch list for the `count` words wider than `q` bits.
fn put_patches(out: &mut Vec<u8>, words: &[u64], q: u32, count: usize, zstd_level: i32) {
    put_varint(out, count as u64);
    if count == 0 {
        return;
    }
    let mut list = Vec::with_capacity(count * 4);
    let mut next = 0usize;
    for (i, &v) in words.iter().enumerate() {
        let high = v.checked_shr(q).unwrap_or(0);
        if high != 0 {
            put_varint(&mut list, (i - next) as u64);
            put_varint(&mut list, high);
            next = i + 1;
        }
    }
    put_varint(out, list.len() as u64);
    put_pack(out, &list, zstd_level);
}
