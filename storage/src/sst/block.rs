//! Block framing: every block on disk is its payload followed by a crc32c of the payload.
//!
//! ```text
//! +----------------------------+----------------------------+
//! | payload (len - 4 bytes)    | crc32c(payload): u32 LE    |
//! +----------------------------+----------------------------+
//! ```
//!
//! A block carries no length of its own: its [`BlockHandle`] (offset and length including the
//! checksum) is kept by whoever points at it (the footer, or the page table of the index).

use std::path::Path;

use super::error::{BlockRef, Corruption, Error};
use crate::fs::ReadAt;

/// Bytes of the checksum after each payload.
pub(super) const CRC_LEN: u64 = 4;

/// Where a block lies in a file: offset and length, checksum included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockHandle {
    /// File offset of the first payload byte.
    pub offset: u64,
    /// Length of payload plus checksum.
    pub len: u64,
}

impl BlockHandle {
    /// The offset just past the block.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
}

/// Appends `payload` and its checksum to `out`; returns the framed length.
pub(super) fn frame(payload: &[u8], out: &mut Vec<u8>) -> u64 {
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    payload.len() as u64 + CRC_LEN
}

/// Checks the trailing checksum of a framed block and returns its payload.
pub(super) fn unframe(framed: &[u8]) -> Result<&[u8], Corruption> {
    let split = framed.len().checked_sub(CRC_LEN as usize).ok_or(Corruption::Mismatch {
        what: "block length",
        expected: CRC_LEN,
        found: framed.len() as u64,
    })?;
    let (payload, crc) = framed.split_at(split);
    let mut stored = [0u8; 4];
    stored.copy_from_slice(crc);
    let stored = u32::from_le_bytes(stored);
    let computed = crc32c::crc32c(payload);
    if stored != computed {
        return Err(Corruption::Checksum { stored, computed });
    }
    Ok(payload)
}

/// Reads the block at `handle` with one positional read, checks that it lies in a file of
/// `file_size` bytes and that its checksum matches, and returns the payload.
pub(super) fn read_block(
    file: &dyn ReadAt,
    path: &Path,
    file_size: u64,
    handle: BlockHandle,
    what: BlockRef,
) -> Result<Vec<u8>, Error> {
    let corrupt = |reason| Error::Corrupt { file: path.to_path_buf(), block: what, offset: handle.offset, reason };
    if handle.len < CRC_LEN || handle.offset.checked_add(handle.len).is_none_or(|end| end > file_size) {
        return Err(corrupt(Corruption::OutOfBounds { offset: handle.offset, len: handle.len, file_size }));
    }
    let len = usize::try_from(handle.len)
        .map_err(|_| corrupt(Corruption::OutOfBounds { offset: handle.offset, len: handle.len, file_size }))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, handle.offset).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            corrupt(Corruption::OutOfBounds { offset: handle.offset, len: handle.len, file_size })
        } else {
            Error::io(path, e)
        }
    })?;
    let payload_len = unframe(&buf).map_err(corrupt)?.len();
    buf.truncate(payload_len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips_and_detects_flips() {
        let mut out = Vec::new();
        assert_eq!(frame(b"hello", &mut out), 9);
        assert_eq!(unframe(&out).unwrap(), b"hello");
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x10;
            assert!(matches!(unframe(&bad), Err(Corruption::Checksum { .. })), "flip at {i}");
        }
        assert!(unframe(&[1, 2]).is_err());
    }
}
