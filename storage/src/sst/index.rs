//! The index block: the page table, the series index and the chunk statistics.
//!
//! Payload of the index block (before framing):
//!
//! ```text
//! raw_len  varint          length of the decompressed bytes
//! zstd frame of raw:
//!   slots     varint       blocks per page = 2 + columns in the schema
//!   pages     varint
//!   per page:   rows varint, then `slots` x block length varint (payload + crc)
//!   series    varint
//!   per series (ascending key order):
//!     shared    varint     bytes shared with the previous key
//!     suffix    varint length + bytes
//!     chunks    varint
//!     per chunk (in file order):
//!       page delta  varint   page minus the previous chunk's page (file order, first: page)
//!       first_row   varint   row within the page
//!       rows        varint
//!       min_ts      zvarint
//!       ts span     varint   max_ts - min_ts
//!       min_seq     varint
//!       seq span    varint   max_seq - min_seq
//!       per schema column: column statistics (see stats.rs)
//! ```
//!
//! Decoding checks that the chunks, in file order, tile every page exactly (each chunk starts where
//! the previous one ended, or at row 0 of the next page), that keys strictly ascend, and that the
//! chunks of a series ascend in time; a file that passes cannot make a reader index out of bounds.

use std::ops::Range;
use std::sync::Arc;

use super::block::BlockHandle;
use super::error::Corruption;
use super::meta::ColumnSchema;
use super::stats::ColumnStats;
use crate::codec::{ByteReader, DecodeError, put_varint, unzigzag, zigzag};

/// Largest decompressed index accepted (guards the allocation).
const MAX_RAW_INDEX: usize = 1 << 31;

/// A contiguous part of one series inside one page, with its statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkMeta {
    /// Page number.
    pub page: u32,
    /// First row within the page.
    pub first_row: u32,
    /// Number of rows.
    pub rows: u32,
    /// Smallest timestamp.
    pub min_ts: i64,
    /// Largest timestamp.
    pub max_ts: i64,
    /// Smallest sequence number.
    pub min_seq: u64,
    /// Largest sequence number.
    pub max_seq: u64,
    /// Statistics per schema column, in schema (ascending id) order.
    pub columns: Vec<ColumnStats>,
}

/// One series of a file: its key and where its chunks are in the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesEntry {
    /// The series key.
    pub key: Arc<str>,
    /// Positions of its chunks in the file's chunk list.
    pub chunks: Range<usize>,
    /// Number of rows.
    pub rows: u64,
    /// Smallest timestamp.
    pub min_ts: i64,
    /// Largest timestamp.
    pub max_ts: i64,
}

/// The decoded index of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Index {
    /// Rows of each page.
    pub page_rows: Vec<u32>,
    /// Block handles, `slots` per page.
    pub blocks: Vec<BlockHandle>,
    /// Series in ascending key order.
    pub series: Vec<SeriesEntry>,
    /// All chunks in file order.
    pub chunks: Vec<ChunkMeta>,
}

impl Index {
    /// The zstd-compressed index payload (see the module doc).
    pub(super) fn encode(&self, slots: usize, zstd_level: i32) -> Vec<u8> {
        let raw = self.encode_raw(slots);
        let compressed = zstd::bulk::compress(&raw, zstd_level).unwrap_or_default();
        let mut out = Vec::with_capacity(compressed.len() + 10);
        put_varint(&mut out, raw.len() as u64);
        out.extend_from_slice(&compressed);
        out
    }

    /// The index before compression.
    fn encode_raw(&self, slots: usize) -> Vec<u8> {
        let mut raw = Vec::with_capacity(64 + self.chunks.len() * 16);
        put_varint(&mut raw, slots as u64);
        put_varint(&mut raw, self.page_rows.len() as u64);
        for (rows, blocks) in self.page_rows.iter().zip(self.blocks.chunks(slots.max(1))) {
            put_varint(&mut raw, u64::from(*rows));
            for b in blocks {
                put_varint(&mut raw, b.len);
            }
        }
        put_varint(&mut raw, self.series.len() as u64);
        let mut prev_key: &str = "";
        let mut prev_page = 0u32;
        for s in &self.series {
            let shared = common_prefix(prev_key.as_bytes(), s.key.as_bytes());
            put_varint(&mut raw, shared as u64);
            let suffix = s.key.as_bytes().get(shared..).unwrap_or_default();
            put_varint(&mut raw, suffix.len() as u64);
            raw.extend_from_slice(suffix);
            prev_key = &s.key;
            let chunks = self.chunks.get(s.chunks.clone()).unwrap_or_default();
            put_varint(&mut raw, chunks.len() as u64);
            for c in chunks {
                put_varint(&mut raw, u64::from(c.page - prev_page));
                prev_page = c.page;
                put_varint(&mut raw, u64::from(c.first_row));
                put_varint(&mut raw, u64::from(c.rows));
                put_varint(&mut raw, zigzag(c.min_ts));
                put_varint(&mut raw, c.max_ts.wrapping_sub(c.min_ts) as u64);
                put_varint(&mut raw, c.min_seq);
                put_varint(&mut raw, c.max_seq - c.min_seq);
                for col in &c.columns {
                    col.encode(&mut raw);
                }
            }
        }
        raw
    }

    /// Decodes an index payload for a file whose schema is `columns` and whose data region starts
    /// at offset 0.
    pub(super) fn decode(payload: &[u8], columns: &[ColumnSchema]) -> Result<Index, Corruption> {
        let mut r = ByteReader::new(payload);
        let raw_len = r.len(MAX_RAW_INDEX, "index length")?;
        let compressed = r.bytes(r.remaining(), "index")?;
        let raw = zstd::bulk::decompress(compressed, raw_len).map_err(|e| Corruption::Decompress(e.to_string()))?;
        if raw.len() != raw_len {
            return Err(Corruption::Mismatch {
                what: "index length",
                expected: raw_len as u64,
                found: raw.len() as u64,
            });
        }
        Index::decode_raw(&raw, columns)
    }

    /// Decodes the decompressed index.
    fn decode_raw(raw: &[u8], columns: &[ColumnSchema]) -> Result<Index, Corruption> {
        let mut r = ByteReader::new(raw);
        let slots = r.varint("slots")?;
        if slots != columns.len() as u64 + 2 {
            return Err(Corruption::Mismatch {
                what: "blocks per page",
                expected: columns.len() as u64 + 2,
                found: slots,
            });
        }
        let (page_rows, blocks) = decode_pages(&mut r, columns.len() + 2)?;
        let mut index = Index { page_rows, blocks, series: Vec::new(), chunks: Vec::new() };
        let nseries = r.len(r.remaining(), "series count")?;
        index.series.reserve(nseries);
        let mut key = Vec::new();
        let mut cursor = (0u32, 0u32); // (page, row) where the next chunk must start
        for _ in 0..nseries {
            let shared = r.len(key.len(), "shared key prefix")?;
            let suffix_len = r.len(r.remaining(), "key suffix length")?;
            let suffix = r.bytes(suffix_len, "key suffix")?;
            let prev = std::mem::take(&mut key);
            key.extend_from_slice(prev.get(..shared).unwrap_or_default());
            key.extend_from_slice(suffix);
            if !index.series.is_empty() && key <= prev {
                return Err(r.error("series keys do not ascend").into());
            }
            let text: Arc<str> = std::str::from_utf8(&key).map_err(|_| r.error("series key is not UTF-8"))?.into();
            let nchunks = r.len(r.remaining(), "chunk count")?;
            if nchunks == 0 {
                return Err(r.error("series without chunks").into());
            }
            let start = index.chunks.len();
            for _ in 0..nchunks {
                let chunk = decode_chunk(&mut r, columns, &index.page_rows, &mut cursor)?;
                if let Some(prev) = index.chunks.get(start..).and_then(|c| c.last())
                    && chunk.min_ts <= prev.max_ts
                {
                    return Err(r.error("chunks of a series do not ascend in time").into());
                }
                index.chunks.push(chunk);
            }
            let mine = index.chunks.get(start..).unwrap_or_default();
            index.series.push(SeriesEntry {
                key: text,
                chunks: start..index.chunks.len(),
                rows: mine.iter().map(|c| u64::from(c.rows)).sum(),
                min_ts: mine.first().map_or(0, |c| c.min_ts),
                max_ts: mine.last().map_or(0, |c| c.max_ts),
            });
        }
        if !r.is_empty() {
            return Err(r.error("trailing bytes after the index").into());
        }
        let covered = match index.page_rows.len() {
            0 => cursor == (0, 0),
            n => cursor.0 as usize == n - 1 && index.page_rows.last() == Some(&cursor.1),
        };
        if !covered {
            return Err(Corruption::Mismatch {
                what: "pages covered by chunks",
                expected: index.page_rows.len() as u64,
                found: u64::from(cursor.0),
            });
        }
        Ok(index)
    }
}

/// Reads the page table: rows per page and the handles of their blocks (data starts at 0).
fn decode_pages(r: &mut ByteReader<'_>, slots: usize) -> Result<(Vec<u32>, Vec<BlockHandle>), DecodeError> {
    let npages = r.len(r.remaining() / (slots + 1), "page count")?;
    let mut page_rows = Vec::with_capacity(npages);
    let mut blocks = Vec::with_capacity(npages * slots);
    let mut offset = 0u64;
    for _ in 0..npages {
        let rows = r.len(u32::MAX as usize, "page rows")?;
        if rows == 0 {
            return Err(r.error("empty page"));
        }
        page_rows.push(rows as u32);
        for _ in 0..slots {
            let len = r.varint("block length")?;
            blocks.push(BlockHandle { offset, len });
            offset = offset.checked_add(len).ok_or_else(|| r.error("block offsets overflow"))?;
        }
    }
    Ok((page_rows, blocks))
}

/// Reads one chunk entry; `cursor` is the (page, row) where it must start, and is advanced.
fn decode_chunk(
    r: &mut ByteReader<'_>,
    columns: &[ColumnSchema],
    page_rows: &[u32],
    cursor: &mut (u32, u32),
) -> Result<ChunkMeta, DecodeError> {
    let delta = r.varint("page delta")?;
    let page = u64::from(cursor.0).checked_add(delta).and_then(|p| u32::try_from(p).ok());
    let page = page.ok_or_else(|| r.error("page number overflows"))?;
    let first_row = r.varint("first row")?;
    let rows = r.varint("chunk rows")?;
    // The chunk continues the page at the cursor, or starts the next page once that one is full.
    let at_cursor = page == cursor.0 && first_row == u64::from(cursor.1);
    let cursor_page_full = page_rows.get(cursor.0 as usize).is_some_and(|n| *n == cursor.1);
    let next_page = page == cursor.0.saturating_add(1) && first_row == 0 && cursor_page_full;
    if !(at_cursor || next_page) {
        return Err(r.error(format!("chunk at page {page} row {first_row} leaves a gap or overlaps")));
    }
    let in_page = page_rows.get(page as usize).copied().unwrap_or(0);
    if rows == 0 || first_row.checked_add(rows).is_none_or(|end| end > u64::from(in_page)) {
        return Err(r.error(format!("chunk of {rows} rows at row {first_row} exceeds page {page} of {in_page} rows")));
    }
    *cursor = (page, (first_row + rows) as u32);
    let min_ts = unzigzag(r.varint("min ts")?);
    let max_ts = i64::try_from(i128::from(min_ts) + i128::from(r.varint("ts span")?))
        .map_err(|_| r.error("max ts overflows"))?;
    let min_seq = r.varint("min seq")?;
    let max_seq = min_seq.checked_add(r.varint("seq span")?).ok_or_else(|| r.error("max seq overflows"))?;
    let columns = columns.iter().map(|c| ColumnStats::decode(r, c.ty, rows)).collect::<Result<_, _>>()?;
    Ok(ChunkMeta { page, first_row: first_row as u32, rows: rows as u32, min_ts, max_ts, min_seq, max_seq, columns })
}

/// Length of the common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sst::SstInfo;
    use crate::sst::tests::model::{runs, schema, write};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn damaged_indexes_never_panic(runs in runs(20), page in 3usize..20, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), cut in any::<prop::sample::Index>()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.sst");
            write(&path, &runs, page, 1);
            let reader = crate::sst::tests::model::open(&path);
            let mut sorted = schema();
            sorted.sort_by_key(|c| c.id);
            let raw = reader.index.encode_raw(sorted.len() + 2);
            prop_assert_eq!(&Index::decode_raw(&raw, &sorted).unwrap(), &reader.index);
            let mut bad = raw.clone();
            for (at, byte) in &edits {
                let i = at.index(bad.len());
                bad[i] = *byte;
            }
            if let Ok(index) = Index::decode_raw(&bad, &sorted) {
                prop_assert_eq!(index.chunks.iter().map(|c| u64::from(c.rows)).sum::<u64>(), index.page_rows.iter().map(|r| u64::from(*r)).sum::<u64>());
            }
            let truncated = &raw[..cut.index(raw.len())];
            prop_assert!(Index::decode_raw(truncated, &sorted).is_err());
        }

        #[test]
        fn garbage_indexes_and_metas_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut sorted = schema();
            sorted.sort_by_key(|c| c.id);
            let _ = Index::decode_raw(&bytes, &sorted);
            let _ = Index::decode(&bytes, &sorted);
            let _ = SstInfo::decode_meta(&bytes, 0);
            prop_assert!(Index::decode_raw(&[], &sorted).is_err());
        }
    }
}
