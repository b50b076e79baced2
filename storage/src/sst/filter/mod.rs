//! The series filter: a bloom filter over the series keys of a file, so that a point lookup of a
//! series skips files that cannot hold it.
//!
//! Payload of the filter block (before framing):
//!
//! ```text
//! probes   u8       number of bit probes per key (1..=30)
//! bits     u64 LE   number of bits m (> 0)
//! array    ceil(m / 8) bytes; bit i is bit (i % 8) of byte i / 8
//! ```
//!
//! Key `k` sets bits `(h1 + i * h2) mod m` for `i < probes`, where `h1 = hash(k)` and
//! `h2 = mix(h1) | 1` (double hashing). The hash is this module's own 64-bit hash of the key's
//! UTF-8 bytes, fixed by the format: it must never change for version 1 files. With 10 bits per
//! key and 7 probes the false-positive rate is about 1%.

mod builder;
mod reader;

pub(super) use builder::FilterBuilder;
pub(super) use reader::Filter;

/// Default bits per key (about 1% false positives).
pub(super) const BITS_PER_KEY: usize = 10;

/// Most probes a filter may declare.
const MAX_PROBES: u8 = 30;

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
fn probe_bits(hash: u64, probes: u8, bits: u64) -> impl Iterator<Item = u64> {
    let h2 = mix(hash ^ 0x5851_f42d_4c95_7f2d) | 1;
    (0..u64::from(probes)).map(move |i| hash.wrapping_add(i.wrapping_mul(h2)) % bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_false_negatives(keys in proptest::collection::btree_set(".{0,40}", 1..300)) {
            let mut b = FilterBuilder::default();
            for k in &keys {
                b.add(k);
            }
            let filter = Filter::decode(&b.build(BITS_PER_KEY)).unwrap();
            for k in &keys {
                prop_assert!(filter.may_contain(k), "false negative for {:?}", k);
            }
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, key in ".{0,10}") {
            if let Ok(f) = Filter::decode(&bytes) {
                let _ = f.may_contain(&key);
                prop_assert!(f.bits() > 0);
            }
        }
    }

    #[test]
    fn false_positive_rate_is_low_on_10k_keys() {
        let mut b = FilterBuilder::default();
        for i in 0..10_000 {
            b.add(&format!("station={i:05}"));
        }
        let filter = Filter::decode(&b.build(BITS_PER_KEY)).unwrap();
        let trials = 100_000;
        let hits = (0..trials).filter(|i| filter.may_contain(&format!("truck_{i}"))).count();
        let rate = hits as f64 / trials as f64;
        assert!(rate < 0.03, "false-positive rate {rate}");
        assert!(rate > 0.0001, "rate {rate} is implausibly low for 10 bits per key");
    }
}
