//! [`SstReader::verify`]: reads and checks every data block of a file, for `isobar admin verify`
//! and the `inspect` tool.
//!
//! Opening a file has already checked the footer, meta, index and filter. Verification then reads
//! every data block from disk (bypassing the cache), checks its checksum, decodes it, and compares
//! each chunk with its index entry: timestamps strictly increasing between the recorded bounds,
//! sequence bounds, and column statistics recomputed from the decoded values.

use arrow_array::Array;

use super::cache::CachedBlock;
use super::error::{Corruption, Error};
use super::index::ChunkMeta;
use super::reader::SstReader;
use super::stats::ColumnStats;

/// The outcome of [`SstReader::verify`].
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Pages checked.
    pub pages: u64,
    /// Data blocks read.
    pub blocks: u64,
    /// Bytes of data blocks read.
    pub bytes: u64,
    /// Rows in the pages checked.
    pub rows: u64,
    /// Every problem found ([`Error::Corrupt`] naming the block, or I/O errors); empty when the
    /// file is sound.
    pub problems: Vec<Error>,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl SstReader {
    /// Reads and checks every data block; problems are collected, not returned early.
    pub fn verify(&self) -> VerifyReport {
        let mut report = VerifyReport::default();
        let slots = self.info.columns.len() + 2;
        let mut chunks = self.index.chunks.iter().peekable();
        for (page, rows) in self.index.page_rows.iter().enumerate() {
            let page = page as u32;
            report.pages += 1;
            report.rows += u64::from(*rows);
            let mut blocks = Vec::with_capacity(slots);
            for slot in 0..slots {
                report.blocks += 1;
                report.bytes += self.block_ref(page, slot).0.len;
                match self.load_block(page, slot) {
                    Ok(b) => blocks.push(Some(b)),
                    Err(e) => {
                        report.problems.push(e);
                        blocks.push(None);
                    }
                }
            }
            while let Some(chunk) = chunks.next_if(|c| c.page == page) {
                if let Err(reason) = check_chunk(chunk, &blocks) {
                    let (handle, block) = self.block_ref(page, 0);
                    report.problems.push(Error::Corrupt {
                        file: self.path.clone(),
                        block,
                        offset: handle.offset,
                        reason,
                    });
                }
            }
        }
        report
    }
}

/// Compares a chunk's index entry with the decoded blocks of its page (missing blocks, already
/// reported, are skipped).
fn check_chunk(chunk: &ChunkMeta, blocks: &[Option<CachedBlock>]) -> Result<(), Corruption> {
    let (start, len) = (chunk.first_row as usize, chunk.rows as usize);
    for block in blocks.iter().flatten() {
        let have = match block {
            CachedBlock::Ints(v) => v.len(),
            CachedBlock::Array(a) => a.len(),
        };
        if start + len > have {
            return Err(Corruption::Mismatch {
                what: "rows in block",
                expected: (start + len) as u64,
                found: have as u64,
            });
        }
    }
    if let Some(Some(CachedBlock::Ints(ts))) = blocks.first() {
        let ts = ts.slice(start, len);
        if ts.iter().zip(ts.iter().skip(1)).any(|(a, b)| a >= b) {
            return Err(Corruption::Invalid { what: "timestamps not increasing in chunk at row", value: start as u64 });
        }
        if ts.first() != Some(&chunk.min_ts) || ts.last() != Some(&chunk.max_ts) {
            let found = ts.first().copied().unwrap_or_default() as u64;
            return Err(Corruption::Mismatch { what: "chunk min ts", expected: chunk.min_ts as u64, found });
        }
    }
    if let Some(Some(CachedBlock::Ints(seq))) = blocks.get(1) {
        let seq = seq.slice(start, len);
        let (lo, hi) = seq.iter().map(|s| *s as u64).fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
        if (lo, hi) != (chunk.min_seq, chunk.max_seq) {
            return Err(Corruption::Mismatch { what: "chunk min seq", expected: chunk.min_seq, found: lo });
        }
    }
    for (i, stats) in chunk.columns.iter().enumerate() {
        if let Some(Some(CachedBlock::Array(a))) = blocks.get(i + 2) {
            let actual = ColumnStats::of(a.slice(start, len).as_ref());
            if !actual.same_as(stats) {
                return Err(Corruption::Mismatch {
                    what: "chunk column non-null count",
                    expected: stats.non_null,
                    found: actual.non_null,
                });
            }
        }
    }
    Ok(())
}
