//! [`FilterBuilder`]: collects key hashes while a file is written and lays out the filter.

use super::hash::{MAX_PROBES, key_hash, probe_bits};

/// Builds a bloom filter over the series keys of one file.
#[derive(Debug, Default)]
pub(crate) struct FilterBuilder {
    hashes: Vec<u64>,
}

impl FilterBuilder {
    /// Adds a key (each series once).
    pub(crate) fn add(&mut self, key: &str) {
        self.hashes.push(key_hash(key.as_bytes()));
    }

    /// The filter block payload with `bits_per_key` bits per key (see the module doc).
    pub(crate) fn build(&self, bits_per_key: usize) -> Vec<u8> {
        let bits = (self.hashes.len().saturating_mul(bits_per_key) as u64).max(64);
        // k = ln 2 * bits per key is optimal.
        let probes = ((bits_per_key as f64 * std::f64::consts::LN_2).round() as u8).clamp(1, MAX_PROBES);
        let mut array = vec![0u8; bits.div_ceil(8) as usize];
        for h in &self.hashes {
            for bit in probe_bits(*h, probes, bits) {
                if let Some(byte) = array.get_mut((bit / 8) as usize) {
                    *byte |= 1 << (bit % 8);
                }
            }
        }
        let mut out = Vec::with_capacity(9 + array.len());
        out.push(probes);
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(&array);
        out
    }
}
