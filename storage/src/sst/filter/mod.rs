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
mod hash;
mod reader;

pub(super) use builder::FilterBuilder;
pub(super) use reader::Filter;

/// Default bits per key (about 1% false positives).
pub(super) const BITS_PER_KEY: usize = 10;

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
