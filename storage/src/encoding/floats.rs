//! Float encodings: decimal scaling (in the spirit of ALP) with exceptions, and an XOR fallback.
//!
//! ```text
//! FLOAT_DECIMAL body (k values):
//! +-----+--------+----------------------------+-----+-----------------------------+
//! | e   | x      | exceptions (only if x > 0) | t   | integers                    |
//! | u8  | varint | varint m, pack of m bytes | u8  | INT_DELTA or INT_FOR body   |
//! +-----+--------+----------------------------+-----+-----------------------------+
//! e           decimal exponent, 0..=18
//! exceptions  x pairs (varint gap, u64 LE raw bits); positions as in the plane patches
//!             (first = gap, then previous + 1 + gap), strictly increasing, below k; m <= 18 x
//! t           integer encoding tag of the scaled integers s (see ints): INT_DELTA for walks,
//!             INT_FOR when values return to a base (a mostly-zero rain gauge); s[i] is the
//!             scaled integer of value i (an exception's slot repeats s[i-1])
//! value i     = exact_f64(s[i]) / 10^e, or the exception's raw bits
//!
//! FLOAT_XOR body (k values):  words(k), word i = bits(v[i]) XOR bits(v[i-1]), bits(v[-1]) = 0
//! ```
//!
//! The writer looks for each value's smallest `e` with `round(v * 10^e)` below 2^51 in magnitude
//! and decoding back to exactly the same bits, using the very function the reader uses (division
//! by an exact power of ten is correctly rounded, so a value parsed from `e` decimals always
//! qualifies). It then picks the page's `e` trading exceptions (about 10 bytes each) against
//! log2(10) bits per value per extra decimal. NaN (any payload), infinities, -0.0 and values
//! needing more digits become exceptions; when they exceed an eighth of the page, the page uses
//! XOR instead. Keeping |s| below 2^51 lets the reader convert with an add and a subtract
//! instead of a scalar integer conversion, so the decode loop vectorizes.

use super::planes::{put_words, read_words};
use super::{EncodingError, ints, tag};
use crate::codec::{ByteReader, put_varint, unzigzag};

/// Largest decimal exponent tried (10^18 is exact in an f64).
const MAX_E: usize = 18;
/// 2^52 + 2^51: adding it to an integer below 2^51 in magnitude puts that integer in the mantissa.
const MAGIC: f64 = 6_755_399_441_055_744.0;
const LIMIT: f64 = 2_251_799_813_685_248.0; // 2^51

const POW10: [f64; MAX_E + 1] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/// The reader's conversion of a scaled integer back to a float (exact for |s| < 2^51).
#[inline(always)]
fn unscale(s: i64, p: f64) -> f64 {
    (f64::from_bits((s as u64).wrapping_add(MAGIC.to_bits())) - MAGIC) / p
}

/// The scaled integer for `v` at exponent `e`, if decoding it gives back exactly `v`.
#[inline]
fn scale(v: f64, e: usize) -> Option<i64> {
    let p = *POW10.get(e)?;
    let s = v * p;
    if s.abs().partial_cmp(&LIMIT) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let d = s.round() as i64;
    (unscale(d, p).to_bits() == v.to_bits()).then_some(d)
}

/// Smallest exponent at which `v` is exactly decimal, or `MAX_E + 1`.
fn min_exponent(v: f64) -> usize {
    (0..=MAX_E).find(|&e| scale(v, e).is_some()).unwrap_or(MAX_E + 1)
}

/// Appends the body of the best float encoding of `values` and returns its tag.
pub(super) fn put_floats(out: &mut Vec<u8>, values: &[f64], zstd_level: i32) -> u8 {
    let k = values.len();
    let mut hist = [0usize; MAX_E + 2];
    for &v in values {
        if let Some(h) = hist.get_mut(min_exponent(v)) {
            *h += 1;
        }
    }
    // Cost in bits: ~80 per exception, log2(10) per value per decimal.
    let mut best = (usize::MAX, 0usize);
    let mut fitting = 0usize;
    for (e, &h) in hist.iter().enumerate().take(MAX_E + 1) {
        fitting += h;
        let cost = (k - fitting) * 80 + k * e * 10 / 3;
        if cost < best.0 {
            best = (cost, e);
        }
    }
    let e = best.1;
    let mut scaled = Vec::with_capacity(k);
    let mut exceptions = Vec::new();
    let mut prev = 0i64;
    let mut count = 0usize;
    let mut next = 0usize;
    for (i, &v) in values.iter().enumerate() {
        match scale(v, e) {
            Some(d) => prev = d,
            None => {
                put_varint(&mut exceptions, (i - next) as u64);
                exceptions.extend_from_slice(&v.to_bits().to_le_bytes());
                next = i + 1;
                count += 1;
            }
        }
        scaled.push(prev);
    }
    if count > k / 8 {
        let mut prev = 0u64;
        let words: Vec<u64> = values
            .iter()
            .map(|v| {
                let x = v.to_bits() ^ prev;
                prev = v.to_bits();
                x
            })
            .collect();
        put_words(out, &words, zstd_level);
        return tag::FLOAT_XOR;
    }
    out.push(e as u8);
    put_varint(out, count as u64);
    if count > 0 {
        put_varint(out, exceptions.len() as u64);
        super::pack::put_pack(out, &exceptions, zstd_level);
    }
    let mut ints = Vec::new();
    let t = ints::put_best_ints(&mut ints, &scaled, &[tag::INT_DELTA, tag::INT_FOR], zstd_level);
    out.push(t);
    out.extend_from_slice(&ints);
    tag::FLOAT_DECIMAL
}

/// Reads a float body of encoding `t` holding `k` values; each `i64` holds a value's bits.
pub(super) fn read_floats(r: &mut ByteReader<'_>, t: u8, k: usize) -> Result<Vec<i64>, EncodingError> {
    if t == tag::FLOAT_XOR {
        let mut v = read_words(r, k, "xor planes")?;
        let mut prev = 0i64;
        for x in &mut v {
            prev ^= *x;
            *x = prev;
        }
        return Ok(v);
    }
    let e = usize::from(r.u8("decimal exponent")?);
    let p = *POW10.get(e).ok_or(EncodingError::OutOfRange {
        what: "decimal exponent",
        got: e as u64,
        max: MAX_E as u64,
    })?;
    let x = r.len(k, "exception count")?;
    let exceptions = if x > 0 {
        let m = r.len(x.saturating_mul(18), "exception list length")?;
        super::pack::read_pack_vec(r, m, "exception list")?
    } else {
        Vec::new()
    };
    let mut v = match r.u8("scaled integer encoding")? {
        tag::INT_DELTA => {
            let mut v = read_words(r, k, "decimal planes")?;
            // Chunked so each chunk is still in L1 for the (vectorized) second loop.
            let mut acc = 0i64;
            for chunk in v.chunks_mut(512) {
                for s in chunk.iter_mut() {
                    acc = acc.wrapping_add(unzigzag(*s as u64));
                    *s = acc;
                }
                for s in chunk.iter_mut() {
                    *s = unscale(*s, p).to_bits() as i64;
                }
            }
            v
        }
        tag::INT_FOR => {
            let mut v = ints::read_int_body(r, tag::INT_FOR, k)?;
            v.iter_mut().for_each(|s| *s = unscale(*s, p).to_bits() as i64);
            v
        }
        t => {
            return Err(EncodingError::UnknownTag { what: "scaled integer encoding", tag: t });
        }
    };
    let mut er = ByteReader::new(&exceptions);
    let mut next = 0u64;
    for _ in 0..x {
        let pos = next.saturating_add(er.varint("exception gap")?);
        let bits = er.u64("exception bits")?;
        match usize::try_from(pos).ok().and_then(|p| v.get_mut(p)) {
            Some(slot) => *slot = bits as i64,
            None => {
                let limit = k as u64;
                return Err(EncodingError::BadPosition { what: "exception", position: pos, limit });
            }
        }
        next = pos + 1;
    }
    if !er.is_empty() {
        return Err(EncodingError::TrailingBytes { offset: er.position(), count: er.remaining() });
    }
    Ok(v)
}
