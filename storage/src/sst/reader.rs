//! [`SstReader`]: an open SSTable: footer, meta, index and filter in memory, data blocks read on
//! demand with positional reads on one shared file handle and kept decoded in the [`BlockCache`].
//!
//! Reading rows is in read.rs, checking a whole file in verify.rs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_buffer::ScalarBuffer;

use super::block::{BlockHandle, read_block};
use super::cache::{BlockCache, CachedBlock};
use super::error::{BlockColumn, BlockRef, Corruption, Error};
use super::filter::Filter;
use super::format::{FOOTER_LEN, Footer};
use super::index::{ChunkMeta, Index, SeriesEntry};
use super::meta::SstInfo;
use super::stats::ColumnStats;
use crate::encoding::{decode_array, decode_ints};
use crate::fs::{Fs, ReadAt};
use crate::schema::ColumnId;
use crate::selector::SeriesSelector;

/// An open SSTable. `Send + Sync`: share it behind an `Arc`.
#[derive(Debug)]
pub struct SstReader {
    pub(super) path: PathBuf,
    fs: Fs,
    file: Box<dyn ReadAt>,
    file_id: u64,
    pub(super) cache: Arc<BlockCache>,
    pub(super) info: SstInfo,
    footer: Footer,
    pub(super) index: Index,
    filter: Filter,
}

impl SstReader {
    /// Opens the SSTable at `path`, known to the engine as `file_id` (the block cache key), and
    /// checks footer, meta, index and filter.
    pub fn open(path: &Path, file_id: u64, cache: Arc<BlockCache>) -> Result<SstReader, Error> {
        Self::open_in(Fs::os(), path, file_id, cache)
    }

    /// [`SstReader::open`] reading through `fs`.
    pub fn open_in(fs: Fs, path: &Path, file_id: u64, cache: Arc<BlockCache>) -> Result<SstReader, Error> {
        let file = fs.open_read(path).map_err(|e| Error::io(path, e))?;
        let size = file.len().map_err(|e| Error::io(path, e))?;
        let corrupt = |block, offset, reason| Error::Corrupt { file: path.to_path_buf(), block, offset, reason };
        if size < FOOTER_LEN {
            return Err(corrupt(
                BlockRef::File,
                0,
                Corruption::OutOfBounds { offset: 0, len: FOOTER_LEN, file_size: size },
            ));
        }
        let footer_offset = size - FOOTER_LEN;
        let mut bytes = [0u8; FOOTER_LEN as usize];
        file.read_exact_at(&mut bytes, footer_offset).map_err(|e| Error::io(path, e))?;
        let footer = Footer::decode(&bytes, path, footer_offset)?;

        let meta = read_block(&*file, path, size, footer.meta, BlockRef::Meta)?;
        let info = SstInfo::decode_meta(&meta, size).map_err(|r| corrupt(BlockRef::Meta, footer.meta.offset, r))?;
        let index = read_block(&*file, path, size, footer.index, BlockRef::Index)?;
        let index =
            Index::decode(&index, &info.columns).map_err(|r| corrupt(BlockRef::Index, footer.index.offset, r))?;
        let filter = read_block(&*file, path, size, footer.filter, BlockRef::Filter)?;
        let filter = Filter::decode(&filter).map_err(|e| corrupt(BlockRef::Filter, footer.filter.offset, e.into()))?;

        let data_end = index.blocks.last().map_or(0, BlockHandle::end);
        let rows: u64 = index.page_rows.iter().map(|r| u64::from(*r)).sum();
        let checks = [
            ("end of the data region", footer.index.offset, data_end),
            ("rows", info.rows, rows),
            ("pages", info.pages, index.page_rows.len() as u64),
            ("series", info.series, index.series.len() as u64),
        ];
        for (what, expected, found) in checks {
            if expected != found {
                return Err(corrupt(
                    BlockRef::Index,
                    footer.index.offset,
                    Corruption::Mismatch { what, expected, found },
                ));
            }
        }
        Ok(SstReader { path: path.to_path_buf(), fs, file, file_id, cache, info, footer, index, filter })
    }

    /// File-level facts and the schema.
    pub fn info(&self) -> &SstInfo {
        &self.info
    }

    /// Non-null cells of real columns (null markers are not points), from the chunk statistics
    /// in the index: no data block is read.
    pub fn points(&self) -> u64 {
        let real: Vec<bool> = self.info.columns.iter().map(|c| crate::schema::marked_column(c.id).is_none()).collect();
        self.index
            .chunks
            .iter()
            .flat_map(|chunk| chunk.columns.iter().zip(&real).filter(|(_, real)| **real).map(|(s, _)| s.non_null))
            .sum()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file system the file was opened through.
    pub fn fs(&self) -> &Fs {
        &self.fs
    }

    /// The id the file was opened with.
    pub fn file_id(&self) -> u64 {
        self.file_id
    }

    /// The footer (for inspection).
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// Rows of each page (for inspection).
    pub fn page_rows(&self) -> &[u32] {
        &self.index.page_rows
    }

    /// False when the file certainly has no rows of `series` (bloom filter).
    pub fn may_contain(&self, series: &str) -> bool {
        self.filter.may_contain(series)
    }

    /// Size of the bloom filter in bits (for inspection).
    pub fn filter_bits(&self) -> u64 {
        self.filter.bits()
    }

    /// The entry of exactly `series`, if the file has it.
    pub fn get(&self, series: &str) -> Option<SeriesEntry> {
        if !self.may_contain(series) {
            return None;
        }
        let i = self.index.series.binary_search_by(|e| e.key.as_ref().cmp(series)).ok()?;
        self.index.series.get(i).cloned()
    }

    /// Entries of the selected series in ascending key order.
    pub fn series<'a>(&'a self, selector: &'a SeriesSelector) -> impl Iterator<Item = SeriesEntry> + 'a {
        use std::ops::Bound;
        let all = &self.index.series;
        let start = match selector.key_bounds().0 {
            Bound::Unbounded => 0,
            Bound::Included(k) => all.partition_point(|e| e.key.as_ref() < k),
            Bound::Excluded(k) => all.partition_point(|e| e.key.as_ref() <= k),
        };
        let skip = selector.exact().is_some_and(|k| !self.may_contain(k));
        let from = if skip { all.len() } else { start };
        all.get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(move |e| !selector.is_past(&e.key))
            .filter(move |e| selector.matches(&e.key))
            .cloned()
    }

    /// The chunks of `entry`, in time order, with their statistics.
    pub fn chunks(&self, entry: &SeriesEntry) -> &[ChunkMeta] {
        self.index.chunks.get(entry.chunks.clone()).unwrap_or_default()
    }

    /// Position of column `id` in the schema (and in [`ChunkMeta::columns`]).
    pub fn column_position(&self, id: ColumnId) -> Option<usize> {
        self.info.columns.binary_search_by_key(&id, |c| c.id).ok()
    }

    /// Statistics of column `id` in `chunk`, if the file has the column.
    pub fn chunk_stats<'a>(&self, chunk: &'a ChunkMeta, id: ColumnId) -> Option<&'a ColumnStats> {
        chunk.columns.get(self.column_position(id)?)
    }

    /// Where block `slot` of `page` is, and how to name it in errors.
    pub(super) fn block_ref(&self, page: u32, slot: usize) -> (BlockHandle, BlockRef) {
        let slots = self.info.columns.len() + 2;
        let block = page as usize * slots + slot;
        let column = match slot {
            0 => BlockColumn::Ts,
            1 => BlockColumn::Seq,
            n => BlockColumn::Column(self.info.columns.get(n - 2).map_or(u32::MAX, |c| c.id)),
        };
        let handle = self.index.blocks.get(block).copied().unwrap_or_default();
        (handle, BlockRef::Data { block: block as u32, page, column })
    }

    /// Block `slot` of `page`, decoded, from the cache or the file.
    pub(super) fn block(&self, page: u32, slot: usize) -> Result<Arc<CachedBlock>, Error> {
        let (handle, _) = self.block_ref(page, slot);
        let key = (self.file_id, handle.offset);
        if let Some(hit) = self.cache.get(key) {
            return Ok(hit);
        }
        let decoded = Arc::new(self.load_block(page, slot)?);
        self.cache.insert(key, decoded.clone());
        Ok(decoded)
    }

    /// Reads, checks and decodes block `slot` of `page` from the file (no cache).
    pub(super) fn load_block(&self, page: u32, slot: usize) -> Result<CachedBlock, Error> {
        let (handle, what) = self.block_ref(page, slot);
        let rows = self.index.page_rows.get(page as usize).copied().unwrap_or(0) as usize;
        let payload = read_block(&*self.file, &self.path, self.info.size, handle, what)?;
        let corrupt = |reason| Error::Corrupt { file: self.path.clone(), block: what, offset: handle.offset, reason };
        let decoded = match slot {
            0 | 1 => CachedBlock::Ints(ScalarBuffer::from(decode_ints(&payload, rows).map_err(|e| corrupt(e.into()))?)),
            n => {
                let ty = self.info.columns.get(n - 2).map(|c| c.ty);
                let ty = ty.ok_or(corrupt(Corruption::Invalid { what: "block slot", value: n as u64 }))?;
                let array = decode_array(&payload, ty, rows).map_err(|e| corrupt(e.into()))?;
                if *array.data_type() != ty.arrow_type() {
                    return Err(corrupt(Corruption::Invalid {
                        what: "decoded column of another type, tag",
                        value: ty.tag().into(),
                    }));
                }
                CachedBlock::Array(array)
            }
        };
        let len = match &decoded {
            CachedBlock::Ints(v) => v.len(),
            CachedBlock::Array(a) => a.len(),
        };
        if len != rows {
            return Err(corrupt(Corruption::Mismatch {
                what: "decoded rows",
                expected: rows as u64,
                found: len as u64,
            }));
        }
        Ok(decoded)
    }
}
