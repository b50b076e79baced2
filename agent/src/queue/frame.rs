//! One queue record on disk: its frame (length + CRC32C) and its payload. The layout is drawn in
//! the [module doc of the queue](super). Decoding never panics: every read is checked and every
//! failure is a [`FrameError`] that says what was found where.

use super::{Checkpoint, Record};

/// Bytes before the payload: `len: u32 LE` then `crc32c(payload): u32 LE`.
pub const FRAME_HEADER: usize = 8;
/// Largest payload accepted when reading (a larger length is taken as corruption).
pub const MAX_PAYLOAD: usize = 256 << 20;
/// Fixed payload bytes before the checkpoints: seq, enqueued_ms, checkpoint count.
const FIXED: usize = 8 + 8 + 1;

/// Why bytes are not a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the frame announces (a torn tail).
    #[error("truncated frame: need {need} bytes, {have} left")]
    Truncated {
        /// Bytes the frame needs.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The length field is beyond [`MAX_PAYLOAD`].
    #[error("frame length {len} is over the limit of {MAX_PAYLOAD} bytes")]
    TooLong {
        /// The length read.
        len: usize,
    },
    /// The payload does not match its checksum.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// CRC in the frame.
        stored: u32,
        /// CRC of the bytes read.
        computed: u32,
    },
    /// The payload's fields do not fit its length.
    #[error("malformed payload: {what}")]
    Payload {
        /// Which field.
        what: &'static str,
    },
}

/// Appends the frame of `record` to `out` and returns its length in bytes.
pub fn encode(record: &Record, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    out.extend_from_slice(&record.seq.to_le_bytes());
    out.extend_from_slice(&record.enqueued_ms.to_le_bytes());
    let count = record.checkpoints.len().min(u8::MAX as usize);
    out.push(count as u8);
    for ckpt in record.checkpoints.iter().take(count) {
        let name = &ckpt.source.as_bytes()[..ckpt.source.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&ckpt.file_id.to_le_bytes());
        out.extend_from_slice(&ckpt.offset.to_le_bytes());
    }
    out.extend_from_slice(&record.request);
    let payload_len = out.len() - start - FRAME_HEADER;
    let crc = crc32c::crc32c(&out[start + FRAME_HEADER..]);
    out[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    out.len() - start
}

/// Decodes the frame at the start of `bytes`: the record and the frame's length.
pub fn decode(bytes: &[u8]) -> Result<(Record, usize), FrameError> {
    let header = bytes.get(..FRAME_HEADER).ok_or(FrameError::Truncated { need: FRAME_HEADER, have: bytes.len() })?;
    let len = u32_at(header, 0) as usize;
    let stored = u32_at(header, 4);
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLong { len });
    }
    let total = FRAME_HEADER + len;
    let payload = bytes.get(FRAME_HEADER..total).ok_or(FrameError::Truncated { need: total, have: bytes.len() })?;
    let computed = crc32c::crc32c(payload);
    if computed != stored {
        return Err(FrameError::Checksum { stored, computed });
    }
    Ok((decode_payload(payload)?, total))
}

fn decode_payload(p: &[u8]) -> Result<Record, FrameError> {
    let fixed = p.get(..FIXED).ok_or(FrameError::Payload { what: "header shorter than 17 bytes" })?;
    let seq = u64_at(fixed, 0);
    let enqueued_ms = u64_at(fixed, 8);
    let count = fixed.get(16).copied().unwrap_or(0) as usize;
    let mut pos = FIXED;
    let mut checkpoints = Vec::with_capacity(count);
    for _ in 0..count {
        let name_len = p.get(pos..pos + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
        let name_len = name_len.ok_or(FrameError::Payload { what: "checkpoint name length" })?;
        pos += 2;
        let name = p.get(pos..pos + name_len).ok_or(FrameError::Payload { what: "checkpoint name" })?;
        let source = String::from_utf8(name.to_vec())
            .map_err(|_| FrameError::Payload { what: "checkpoint name is not UTF-8" })?;
        pos += name_len;
        let nums = p.get(pos..pos + 16).ok_or(FrameError::Payload { what: "checkpoint position" })?;
        checkpoints.push(Checkpoint { source, file_id: u64_at(nums, 0), offset: u64_at(nums, 8) });
        pos += 16;
    }
    let request = p.get(pos..).unwrap_or_default().to_vec();
    Ok(Record { seq, enqueued_ms, checkpoints, request })
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            seq: 42,
            enqueued_ms: 1_700_000_000_000,
            checkpoints: vec![Checkpoint { source: "csv:a".into(), file_id: 7, offset: 1234 }],
            request: vec![1, 2, 3, 4, 5],
        }
    }

    #[test]
    fn round_trips() {
        let mut buf = Vec::new();
        let n = encode(&sample(), &mut buf);
        assert_eq!(n, buf.len());
        assert_eq!(decode(&buf), Ok((sample(), n)));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            assert!(decode(&bad).is_err(), "flip at {i}");
        }
    }
}
