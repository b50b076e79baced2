//! [`Filter`]: a decoded bloom filter, probed by readers.

use super::hash::{MAX_PROBES, key_hash, probe_bits};
use crate::codec::{ByteReader, DecodeError};

/// A bloom filter over the series keys of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Filter {
    probes: u8,
    bits: u64,
    array: Vec<u8>,
}

impl Filter {
    /// Decodes a filter block payload; never panics on bad bytes.
    pub(crate) fn decode(payload: &[u8]) -> Result<Filter, DecodeError> {
        let mut r = ByteReader::new(payload);
        let probes = r.u8("filter probes")?;
        if probes == 0 || probes > MAX_PROBES {
            return Err(r.error(format!("filter probes {probes} outside 1..={MAX_PROBES}")));
        }
        let bits = r.u64("filter bits")?;
        if bits == 0 || bits.div_ceil(8) != r.remaining() as u64 {
            return Err(r.error(format!("filter of {bits} bits but {} bytes of bit array", r.remaining())));
        }
        let array = r.bytes(r.remaining(), "filter bits")?.to_vec();
        Ok(Filter { probes, bits, array })
    }

    /// False when `key` is certainly not in the file; true when it may be.
    pub(crate) fn may_contain(&self, key: &str) -> bool {
        probe_bits(key_hash(key.as_bytes()), self.probes, self.bits)
            .all(|bit| self.array.get((bit / 8) as usize).is_some_and(|b| b & (1 << (bit % 8)) != 0))
    }

    /// Number of bits.
    pub(crate) fn bits(&self) -> u64 {
        self.bits
    }
}
