//! The SSTable file layout (format version 1), the footer and the format constants.
//!
//! # File
//!
//! All integers are little-endian; "varint" is unsigned LEB128, "zvarint" a zigzag varint.
//!
//! ```text
//! offset 0
//! +----------------------------------------------------------------------+
//! | page 0:  [ts block][seq block][col c0 block][col c1 block]...       |  data region:
//! | page 1:  [ts block][seq block][col c0 block][col c1 block]...       |  one block per column
//! | ...                                                                  |  per page, contiguous
//! +----------------------------------------------------------------------+
//! | index block   (page table + series index + chunk statistics, zstd)   |  see index.rs
//! | filter block  (bloom filter over series keys)                        |  see filter/
//! | meta block    (schema, family, file-level facts)                     |  see meta.rs
//! | footer        (64 bytes, fixed)                                      |
//! +----------------------------------------------------------------------+
//! ```
//!
//! Every block, data or not, is framed as `[payload][crc32c(payload): u32]` (see block.rs).
//!
//! **Pages.** Rows sorted by `(series key bytewise, ts)` are cut into pages of up to
//! `rows_per_page` rows. A page may hold the tail of one series and the heads of the next ones,
//! so small series share pages and compression works on useful amounts of data. A page has one
//! block per column, in this order: `ts` (encoded with [`IntKind::Timestamp`]), `seq` (the `u64`
//! bit-cast to `i64`, [`IntKind::Sequence`]), then each column of the file's schema in ascending
//! id order (encoded by [`encode_array`]; rows of series that lack the column are nulls). The
//! payload is exactly what `crate::encoding` produced, compression included.
//!
//! **Chunks.** The rows of one series inside one page form a chunk. The index lists, per series
//! in key order, its chunks: page, first row within the page, row count, and statistics (time
//! bounds, sequence bounds, and per column non-null count, min/max/sum of numbers, count of
//! `true`s). A reader finds a series by binary search, skips chunks outside a time range, answers
//! aggregates from statistics, and decodes only the blocks of the columns asked for.
//!
//! Data blocks are addressed through the page table in the index: page `p` starts where page
//! `p - 1` ends (page 0 at offset 0) and its blocks follow each other, so the table stores only
//! row counts and block lengths. Block number `p * (2 + columns) + slot` names a block in errors.
//!
//! # Footer (64 bytes, at the end of the file)
//!
//! ```text
//! 0   u64  index offset        8   u64  index length (incl. crc)
//! 16  u64  filter offset       24  u64  filter length (incl. crc)
//! 32  u64  meta offset         40  u64  meta length (incl. crc)
//! 48  u32  crc32c over footer bytes 0..48 followed by 52..64
//! 52  u16  format version (= 1)
//! 54  u16  flags (= 0)
//! 56  [8]  magic "ISOBARST"
//! ```
//!
//! Opening checks, in order: the magic (else "not an SSTable"), the version (an unknown version is
//! [`Error::UnsupportedVersion`] even before the checksum, since a later version may lay its
//! footer out differently), the footer checksum, then that index, filter and meta lie one after
//! the other between the data region and the footer.
//!
//! [`IntKind::Timestamp`]: crate::encoding::IntKind::Timestamp
//! [`IntKind::Sequence`]: crate::encoding::IntKind::Sequence
//! [`encode_array`]: crate::encoding::encode_array

use std::path::Path;

use super::block::BlockHandle;
use super::error::{BlockRef, Corruption, Error};
use crate::codec::ByteReader;

/// The 8 bytes that end every SSTable.
pub const MAGIC: [u8; 8] = *b"ISOBARST";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the footer in bytes.
pub const FOOTER_LEN: u64 = 64;
/// Default rows per page.
pub const DEFAULT_ROWS_PER_PAGE: usize = 8192;
/// Largest accepted rows per page (row numbers inside a page are `u32`; this keeps pages sane).
pub const MAX_ROWS_PER_PAGE: usize = 1 << 20;

/// The fixed-size footer: where the index, filter and meta blocks are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// The index block.
    pub index: BlockHandle,
    /// The filter block.
    pub filter: BlockHandle,
    /// The meta block.
    pub meta: BlockHandle,
    /// Format version.
    pub version: u16,
}

impl Footer {
    /// The 64 footer bytes.
    pub fn encode(&self) -> [u8; FOOTER_LEN as usize] {
        let mut out = [0u8; FOOTER_LEN as usize];
        let fields =
            [self.index.offset, self.index.len, self.filter.offset, self.filter.len, self.meta.offset, self.meta.len];
        for (slot, v) in out.chunks_exact_mut(8).zip(fields) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        out[52..54].copy_from_slice(&self.version.to_le_bytes());
        out[56..64].copy_from_slice(&MAGIC);
        let crc = footer_crc(&out);
        out[48..52].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses and checks the footer of `file` (the last [`FOOTER_LEN`] bytes, read from
    /// `footer_offset`), and checks that the blocks it names fit before it.
    pub fn decode(bytes: &[u8], file: &Path, footer_offset: u64) -> Result<Footer, Error> {
        let corrupt = |reason| Error::Corrupt {
            file: file.to_path_buf(),
            block: BlockRef::Footer,
            offset: footer_offset,
            reason,
        };
        let mut r = ByteReader::new(bytes);
        let mut fields = [0u64; 6];
        for f in &mut fields {
            *f = r.u64("footer handle").map_err(|e| corrupt(e.into()))?;
        }
        let stored = r.u32("footer crc").map_err(|e| corrupt(e.into()))?;
        let version = r.u16("format version").map_err(|e| corrupt(e.into()))?;
        let _flags = r.u16("flags").map_err(|e| corrupt(e.into()))?;
        let magic: [u8; 8] = r.array("magic").map_err(|e| corrupt(e.into()))?;
        if magic != MAGIC {
            return Err(corrupt(Corruption::BadMagic { found: magic.to_vec() }));
        }
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                file: file.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let computed = footer_crc(bytes);
        if stored != computed {
            return Err(corrupt(Corruption::Checksum { stored, computed }));
        }
        let [io, il, fo, fl, mo, ml] = fields;
        let footer = Footer {
            index: BlockHandle { offset: io, len: il },
            filter: BlockHandle { offset: fo, len: fl },
            meta: BlockHandle { offset: mo, len: ml },
            version,
        };
        // index, filter and meta follow each other and end where the footer starts.
        let chain =
            [(footer.index, footer.filter.offset), (footer.filter, footer.meta.offset), (footer.meta, footer_offset)];
        for (handle, next) in chain {
            if handle.offset.checked_add(handle.len) != Some(next) {
                return Err(corrupt(Corruption::OutOfBounds {
                    offset: handle.offset,
                    len: handle.len,
                    file_size: footer_offset + FOOTER_LEN,
                }));
            }
        }
        Ok(footer)
    }
}

/// crc32c over footer bytes `0..48` and `52..64` (everything but the checksum itself).
fn footer_crc(bytes: &[u8]) -> u32 {
    let head = bytes.get(..48).unwrap_or_default();
    let tail = bytes.get(52..).unwrap_or_default();
    crc32c::crc32c_append(crc32c::crc32c(head), tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Footer {
        Footer {
            index: BlockHandle { offset: 100, len: 20 },
            filter: BlockHandle { offset: 120, len: 10 },
            meta: BlockHandle { offset: 130, len: 30 },
            version: FORMAT_VERSION,
        }
    }

    #[test]
    fn footer_round_trips() {
        let bytes = sample().encode();
        assert_eq!(Footer::decode(&bytes, Path::new("f"), 160).unwrap(), sample());
    }

    #[test]
    fn every_flipped_footer_byte_is_detected() {
        let good = sample().encode();
        for i in 0..good.len() {
            let mut bad = good;
            bad[i] ^= 0x04;
            assert!(Footer::decode(&bad, Path::new("f"), 160).is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn unknown_version_is_reported_as_such() {
        let mut f = sample();
        f.version = 7;
        let err = Footer::decode(&f.encode(), Path::new("f"), 160).unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { found: 7, supported: 1, .. }), "{err}");
    }
}
