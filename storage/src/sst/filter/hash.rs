//! The filter's hash of a series key and the bit positions it probes, fixed by the format (see
//! the module doc of the filter).

/// Most probes a filter may declare.
pub(super) const MAX_PROBES: u8 = 30;

/// The format's 64-bit hash of a key: 8-byte little-endian words folded with a multiply-rotate
/// step, then a final avalanche.
pub(super) fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ (key.len() as u64).wrapping_mul(K);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(K).rotate_left(29);
    }
    let mut tail = [0u8; 8];
    for (d, s) in tail.iter_mut().zip(words.remainder()) {
        *d = *s;
    }
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K).rotate_left(29);
    mix(h)
}

/// A 64-bit avalanche (every input bit affects every output bit).
fn mix(mut h: u64) -> u64 {
    h ^= h >> 31;
    h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
    h ^= h >> 32;
    h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
    h ^ (h >> 32)
}

/// The bit positions a key hash sets in a filter of `bits` bits.
pub(super) fn probe_bits(hash: u64, probes: u8, bits: u64) -> impl Iterator<Item = u64> {
    let h2 = mix(hash ^ 0x5851_f42d_4c95_7f2d) | 1;
    (0..u64::from(probes)).map(move |i| hash.wrapping_add(i.wrapping_mul(h2)) % bits)
}
