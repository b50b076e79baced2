//! Reading planes back into words (layout in the parent module).

use super::super::EncodingError;
use super::super::pack::{Pack, read_pack, read_pack_vec};
use super::layout::{plane_len, symbol_bits};
use crate::codec::ByteReader;

/// Reads `n` words written by `put_words`; each `i64` holds the word's bits.
pub(in super::super) fn read_words(
    r: &mut ByteReader<'_>,
    n: usize,
    what: &'static str,
) -> Result<Vec<i64>, EncodingError> {
    let b = u32::from(r.u8(what)?);
    if b > 7 {
        return Err(EncodingError::OutOfRange { what: "low bits", got: u64::from(b), max: 7 });
    }
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    if b > 0 {
        let plane = Plane { n, bits: symbol_bits(b), mask: (1 << b) - 1, shift: 0 };
        plane.read_or(r, &mut out, what, &mut scratch)?;
    }
    let q = u32::from(r.u8(what)?);
    match q {
        0 => {}
        1 | 2 | 4 => {
            let plane = Plane { n, bits: q, mask: (1 << q) - 1, shift: b };
            plane.read_or(r, &mut out, what, &mut scratch)?;
        }
        _ if q % 8 == 0 && q <= 64 => {
            for k in 0..q / 8 {
                let plane = Plane { n, bits: 8, mask: 0xff, shift: b + 8 * k };
                plane.read_or(r, &mut out, what, &mut scratch)?;
            }
        }
        _ => {
            return Err(EncodingError::OutOfRange { what: "plane bits", got: u64::from(q), max: 64 });
        }
    }
    if out.is_empty() {
        out.resize(n, 0);
    }
    let shift = b + q;
    let x = r.len(if shift >= 64 { 0 } else { n }, "patch count")?;
    if x > 0 {
        let m = r.len(x.saturating_mul(20), "patch list length")?;
        let list = read_pack_vec(r, m, "patch list")?;
        apply_patches(&list, x, shift, &mut out)?;
    }
    Ok(out)
}

/// One plane: `n` symbols of `bits` bits, each masked and shifted into place.
struct Plane {
    n: usize,
    bits: u32,
    mask: u8,
    shift: u32,
}

impl Plane {
    /// Reads the plane's pack and ORs its symbols into `out`; an empty `out` is filled instead
    /// (the first plane writes rather than ORs, sparing a pass over zeroed memory).
    fn read_or(
        &self,
        r: &mut ByteReader<'_>,
        out: &mut Vec<i64>,
        what: &'static str,
        scratch: &mut Vec<u8>,
    ) -> Result<(), EncodingError> {
        let len = plane_len(self.n, self.bits);
        let pack = read_pack(r, len, what, scratch)?;
        let (mask, shift) = (self.mask, self.shift);
        if self.bits == 8 {
            match pack {
                Pack::Fill(byte) if out.is_empty() => out.resize(self.n, i64::from(byte & mask) << shift),
                Pack::Fill(byte) => {
                    let add = i64::from(byte & mask) << shift;
                    out.iter_mut().for_each(|o| *o |= add);
                }
                Pack::Bytes(bytes) if out.is_empty() => {
                    out.extend(bytes.iter().map(|&byte| i64::from(byte & mask) << shift));
                }
                Pack::Bytes(bytes) => {
                    for (o, &byte) in out.iter_mut().zip(bytes) {
                        *o |= i64::from(byte & mask) << shift;
                    }
                }
            }
            return Ok(());
        }
        let filled;
        let bytes = match pack {
            Pack::Fill(byte) => {
                filled = vec![byte; len];
                filled.as_slice()
            }
            Pack::Bytes(bytes) => bytes,
        };
        // Symbol i is in byte i % len at slot i / len: slot t fills rows t * len .. (t + 1) * len,
        // one contiguous (vectorizable) loop per slot.
        if len == 0 {
            return Ok(());
        }
        if out.is_empty() {
            for t in 0..8 / self.bits {
                let take = self.n.saturating_sub(out.len()).min(len);
                let slot = t * self.bits;
                out.extend(bytes.iter().take(take).map(|&byte| i64::from((byte >> slot) & mask) << shift));
            }
        } else {
            for (t, rows) in out.chunks_mut(len).enumerate() {
                let slot = t as u32 * self.bits;
                for (o, &byte) in rows.iter_mut().zip(bytes) {
                    *o |= i64::from((byte >> slot) & mask) << shift;
                }
            }
        }
        Ok(())
    }
}

/// ORs the `x` patches of `list`, shifted left by `shift` (< 64), into `out`.
fn apply_patches(list: &[u8], x: usize, shift: u32, out: &mut [i64]) -> Result<(), EncodingError> {
    let mut pr = ByteReader::new(list);
    let mut next = 0u64;
    let n = out.len() as u64;
    for _ in 0..x {
        let gap = pr.varint("patch gap")?;
        let pos = next.saturating_add(gap);
        let high = pr.varint("patch value")?;
        if high == 0 || (high << shift) >> shift != high {
            let max = u64::MAX >> shift;
            return Err(EncodingError::OutOfRange { what: "patch value", got: high, max });
        }
        match usize::try_from(pos).ok().and_then(|p| out.get_mut(p)) {
            Some(slot) => *slot |= (high << shift) as i64,
            None => {
                return Err(EncodingError::BadPosition { what: "patch", position: pos, limit: n });
            }
        }
        next = pos + 1;
    }
    if !pr.is_empty() {
        return Err(EncodingError::TrailingBytes { offset: pr.position(), count: pr.remaining() });
    }
    Ok(())
}
