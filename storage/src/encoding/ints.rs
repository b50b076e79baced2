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

/// Appends the body for the integer encoding `t` (one of the `INT_*` tags).
pub(super) fn put_int_body(out: &mut Vec<u8>, values: &[i64], t: u8, zstd_level: i32) {
    let words: Vec<u64> = match t {
        tag::INT_DELTA_OF_DELTA => deltas(deltas(values.iter().copied())).map(zigzag).collect(),
        tag::INT_DELTA => deltas(values.iter().copied()).map(zigzag).collect(),
        _ => {
            let min = values.iter().copied().min().unwrap_or(0);
            out.extend_from_slice(&min.to_le_bytes());
            values.iter().map(|&v| v.wrapping_sub(min) as u64).collect()
        }
    };
    put_words(out, &words, zstd_level);
}

/// Appends the body of whichever of the `candidates` integer encodings is smallest (at least one
/// candidate must be given) and returns its tag.
pub(super) fn put_best_ints(
    out: &mut Vec<u8>,
    values: &[i64],
    candidates: &[u8],
    zstd_level: i32,
) -> u8 {
    let mut best: Option<(u8, Vec<u8>)> = None;
    for &t in candidates {
        let mut enc = Vec::new();
        put_int_body(&mut enc, values, t, zstd_level);
        if best.as_ref().is_none_or(|(_, b)| enc.len() < b.len()) {
            best = Some((t, enc));
        }
    }
    match best {
        Some((t, b)) => {
            out.extend_from_slice(&b);
            t
        }
        None => {
            put_int_body(out, values, tag::INT_DELTA, zstd_level);
            tag::INT_DELTA
        }
    }
}

/// Reads the body of integer encoding `t` holding `n` values.
pub(super) fn read_int_body(
    r: &mut ByteReader<'_>,
    t: u8,
    n: usize,
) -> Result<Vec<i64>, EncodingError> {
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
        _ => Err(EncodingError::UnknownTag {
            what: "integer encoding",
            tag: t,
        }),
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
