//! Byte layout of WAL segment headers and records: encoding and checked decoding.
//!
//! The layout is drawn in the [module doc of `wal`](super). Decoders take bytes read from disk
//! and never panic: every read goes through `ByteReader`, lengths are checked against
//! [`MAX_RECORD_LEN`] and the bytes actually present before anything is sliced, and nothing is
//! ever allocated from a length field.

use crate::codec::{ByteReader, DecodeError};

use super::error::CorruptReason;

/// First eight bytes of every segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"IsobWAL\0";
/// Format version written by this build and the only one it reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes in a segment header.
pub const SEGMENT_HEADER_LEN: usize = 32;
/// Bytes in a record header (length, checksum, seq) before the payload.
pub const RECORD_HEADER_LEN: usize = 16;
/// Largest payload accepted by `append` and by the decoder (256 MiB).
pub const MAX_RECORD_LEN: usize = 256 << 20;

/// The decoded header of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Segment number (also in the file name).
    pub number: u64,
    /// Seq of the segment's first record.
    pub first_seq: u64,
}

impl SegmentHeader {
    /// Appends the 32-byte header to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&SEGMENT_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.number.to_le_bytes());
        out.extend_from_slice(&self.first_seq.to_le_bytes());
        let crc = crc32c::crc32c(out.get(start..).unwrap_or_default());
        out.extend_from_slice(&crc.to_le_bytes());
    }

    /// Decodes and checks the header at the start of `buf` (magic, version, checksum).
    pub fn decode(buf: &[u8]) -> Result<SegmentHeader, CorruptReason> {
        let Some(head) = buf.get(..SEGMENT_HEADER_LEN) else {
            return Err(CorruptReason::Short {
                what: "segment header",
                needed: SEGMENT_HEADER_LEN as u64,
                available: buf.len() as u64,
            });
        };
        let mut r = ByteReader::new(head);
        let magic: [u8; 8] = r.array("magic").map_err(short)?;
        if magic != SEGMENT_MAGIC {
            return Err(CorruptReason::BadMagic { got: magic });
        }
        let version = r.u16("version").map_err(short)?;
        if version != FORMAT_VERSION {
            return Err(CorruptReason::UnsupportedVersion { got: version, supported: FORMAT_VERSION });
        }
        let _reserved = r.u16("reserved").map_err(short)?;
        let number = r.u64("segment number").map_err(short)?;
        let first_seq = r.u64("first seq").map_err(short)?;
        let covered = r.position();
        let stored = r.u32("header checksum").map_err(short)?;
        let computed = crc32c::crc32c(head.get(..covered).unwrap_or_default());
        if stored != computed {
            return Err(CorruptReason::Checksum { what: "segment header", stored, computed });
        }
        Ok(SegmentHeader { number, first_seq })
    }
}

/// Appends one framed record (header and payload) to `out`.
///
/// The caller guarantees `payload.len() <= MAX_RECORD_LEN` (checked by `Wal::append`).
pub fn encode_record(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    let len = (payload.len() as u32).to_le_bytes();
    let seq_bytes = seq.to_le_bytes();
    let crc = record_crc(len, seq_bytes, payload);
    out.reserve(RECORD_HEADER_LEN + payload.len());
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&seq_bytes);
    out.extend_from_slice(payload);
}

/// The record checksum: CRC-32C (unmasked) of length, seq and payload, in that order.
fn record_crc(len: [u8; 4], seq: [u8; 8], payload: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&len);
    let crc = crc32c::crc32c_append(crc, &seq);
    crc32c::crc32c_append(crc, payload)
}

/// A record decoded in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The record's seq.
    pub seq: u64,
    /// The payload bytes.
    pub payload: &'a [u8],
    /// Offset just past the record (where the next one starts).
    pub end: usize,
}

/// Decodes and checks the record starting at `pos` in `buf` (a whole segment file).
///
/// Fails with [`CorruptReason::Short`] when the record runs past the end of `buf`,
/// [`CorruptReason::LengthTooLarge`] for a length over [`MAX_RECORD_LEN`], and
/// [`CorruptReason::Checksum`] when the stored CRC does not match. Seq ordering is the caller's
/// check (it needs the previous record).
pub fn decode_record(buf: &[u8], pos: usize) -> Result<RecordRef<'_>, CorruptReason> {
    let rest = buf.get(pos..).unwrap_or_default();
    let mut r = ByteReader::new(rest);
    let header_short = |_| CorruptReason::Short {
        what: "record header",
        needed: RECORD_HEADER_LEN as u64,
        available: rest.len() as u64,
    };
    let len_bytes: [u8; 4] = r.array("record length").map_err(header_short)?;
    let stored = r.u32("record checksum").map_err(header_short)?;
    let seq_bytes: [u8; 8] = r.array("record seq").map_err(header_short)?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > MAX_RECORD_LEN {
        return Err(CorruptReason::LengthTooLarge { len: len as u64, max: MAX_RECORD_LEN as u64 });
    }
    let payload = r.bytes(len, "record payload").map_err(|_| CorruptReason::Short {
        what: "record",
        needed: (RECORD_HEADER_LEN + len) as u64,
        available: rest.len() as u64,
    })?;
    let computed = record_crc(len_bytes, seq_bytes, payload);
    if stored != computed {
        return Err(CorruptReason::Checksum { what: "record", stored, computed });
    }
    Ok(RecordRef { seq: u64::from_le_bytes(seq_bytes), payload, end: pos + r.position() })
}

fn short(e: DecodeError) -> CorruptReason {
    CorruptReason::Short { what: "segment header", needed: SEGMENT_HEADER_LEN as u64, available: e.offset as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_round_trips_and_detects_flips() {
        let h = SegmentHeader { number: 7, first_seq: 1234 };
        let mut buf = Vec::new();
        h.encode(&mut buf);
        assert_eq!(buf.len(), SEGMENT_HEADER_LEN);
        assert_eq!(SegmentHeader::decode(&buf), Ok(h));
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            assert!(SegmentHeader::decode(&bad).is_err(), "flip at byte {i} not detected");
        }
    }

    #[test]
    fn record_round_trips_and_detects_flips() {
        let mut buf = vec![0xAA; 3];
        encode_record(&mut buf, 99, b"hello");
        let rec = decode_record(&buf, 3).expect("valid record");
        assert_eq!((rec.seq, rec.payload, rec.end), (99, &b"hello"[..], buf.len()));
        for i in 3..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x01;
            assert!(decode_record(&bad, 3).is_err(), "flip at byte {i} not detected");
        }
    }

    #[test]
    fn absurd_length_is_rejected_without_allocating() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, b"x");
        buf[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode_record(&buf, 0),
            Err(CorruptReason::LengthTooLarge { len, .. }) if len == u64::from(u32::MAX)
        ));
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes: Vec<u8>, pos in 0usize..64) {
            let _ = SegmentHeader::decode(&bytes);
            if let Ok(rec) = decode_record(&bytes, pos) {
                prop_assert!(rec.end <= bytes.len());
            }
        }
    }
}
