//! Integer transforms in front of the byte planes: delta-of-delta, delta, frame of reference.
//!
//! ```text
//! INT_DELTA_OF_DELTA body:  words(n)   word i = zigzag(d[i] - d[i-1]),  d[i] = v[i] - v[i-1]
//! INT_DELTA body:           words(n)   word i = zigzag(v[i] - v[i-1])
//! INT_FOR body:             i64 LE min, words(n)   word i = v[i] - min
//! ```
//!
//! `v[-1]` and `d[-1]` are 0, so the first one or two words are large; the planes turn them into
//! patches. All arithmetic wraps, so every `i64` (including `i64::MIN`/`MAX`) round-trips and any
//! input decodes without overflow.

use super::planes::{put_words, read_words};
use super::{EncodingError, tag};
use crate::codec::{ByteReader, unzigzag, zigzag};

/// Zigzagged deltas of `values` (the delta of the first value is itself).
fn deltas(values: impl Iterator<Item = i64>) -> impl Iterator<Item = i64> {
    let mut prev = 0i64;
    values.map(move |v| {
        let d = v.wrapping_sub(prev);
        prev = v;
        d
    })
}

/// The words of integer encoding `t` (one of the `INT_*` tags) and, for `INT_FOR`, the minimum.
fn transform(values: &[i64], t: u8) -> (Vec<u64>, Option<i64>) {
    match t {
        tag::INT_DELTA_OF_DELTA => (deltas(deltas(values.iter().copied())).map(zigzag).collect(), None),
        tag::INT_DELTA => (deltas(values.iter().copied()).map(zigzag).collect(), None),
        _ => {
            let min = values.iter().copied().min().unwrap_or(0);
            (values.iter().map(|&v| v.wrapping_sub(min) as u64).collect(), Some(min))
        }
    }
}

/// A cheap size proxy: total significant bits of the words.
fn rough_bits(words: &[u64]) -> u64 {
    words.iter().map(|w| u64::from(64 - w.leading_zeros())).sum()
}

/// Appends the body of whichever of the `candidates` integer encodings is smallest and returns
/// its tag (`INT_DELTA` when `candidates` is empty). Only candidates whose words have at most
/// 1.5 times the significant bits of the leanest one are compressed and compared.
pub(super) fn put_best_ints(out: &mut Vec<u8>, values: &[i64], candidates: &[u8], zstd_level: i32) -> u8 {
    let mut options: Vec<(u8, Vec<u64>, Option<i64>, u64)> = candidates
        .iter()
        .map(|&t| {
            let (words, min) = transform(values, t);
            let bits = rough_bits(&words);
            (t, words, min, bits)
        })
        .collect();
    let leanest = options.iter().map(|o| o.3).min().unwrap_or(0);
    options.retain(|o| o.3 <= leanest + leanest / 2);
    let mut best: Option<(u8, Vec<u8>)> = None;
    for (t, words, min, _) in options {
        let mut enc = Vec::new();
        if let Some(min) = min {
            enc.extend_from_slice(&min.to_le_bytes());
        }
        put_words(&mut enc, &words, zstd_level);
        if best.as_ref().is_none_or(|(_, b)| enc.len() < b.len()) {
            best = Some((t, enc));
        }
    }
    if let Some((t, b)) = best {
        out.extend_from_slice(&b);
        return t;
    }
    let (words, _) = transform(values, tag::INT_DELTA);
    put_words(out, &words, zstd_level);
    tag::INT_DELTA
}

/// Reads the body of integer encoding `t` holding `n` values.
pub(super) fn read_int_body(r: &mut ByteReader<'_>, t: u8, n: usize) -> Result<Vec<i64>, EncodingError> {
    match t {
        tag::INT_DELTA_OF_DELTA => {
            let mut v = read_words(r, n, "delta-of-delta planes")?;
            let (mut d, mut acc) = (0i64, 0i64);
            for x in &mut v {
                d = d.wrapping_add(unzigzag(*x as u64));
                acc = acc.wrapping_add(d);
                *x = acc;
            }
            Ok(v)
        }
        tag::INT_DELTA => {
            let mut v = read_words(r, n, "delta planes")?;
            prefix_sum_zigzag(&mut v);
            Ok(v)
        }
        tag::INT_FOR => {
            let min = r.i64("frame-of-reference minimum")?;
            let mut v = read_words(r, n, "frame-of-reference planes")?;
            v.iter_mut().for_each(|x| *x = x.wrapping_add(min));
            Ok(v)
        }
        _ => Err(EncodingError::UnknownTag { what: "integer encoding", tag: t }),
    }
}

/// Replaces zigzagged deltas by their running sum.
fn prefix_sum_zigzag(v: &mut [i64]) {
    let mut acc = 0i64;
    for x in v {
        acc = acc.wrapping_add(unzigzag(*x as u64));
        *x = acc;
    }
}
