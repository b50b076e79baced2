//! Rows without a present cell in files written before the engine stopped storing them.
//!
//! Until the memtable kept only rows with a present cell (see `memtable::present`), a write that
//! touched two families gave each family a row at every timestamp of the write, with every cell
//! of the other family's timestamps absent. Such a row is not data: it never changes a cell under
//! last-write-wins, and reporting it would make a family hold a row at a time it was never
//! written. Files on disk may still hold them, so the reader drops them from every chunk it
//! reads; no format change is needed and compaction rewrites them away.
//!
//! Cost: a chunk in which some column has a value in every row (the statistics say so) cannot
//! hold such a row and is returned as read. Only a chunk where every column has gaps is checked
//! row by row, which decodes (through the block cache) the blocks of its columns that hold any
//! value, also those the read did not ask for.

use arrow_array::Array;

use super::cache::CachedBlock;
use super::error::{Corruption, Error};
use super::index::ChunkMeta;
use super::reader::SstReader;

impl SstReader {
    /// For each row of `chunk`, whether any column has a value there; `None` when every row
    /// does (the usual case, answered from the chunk's statistics without decoding).
    pub(super) fn rows_with_cells(&self, chunk: &ChunkMeta) -> Result<Option<Vec<bool>>, Error> {
        let rows = u64::from(chunk.rows);
        if chunk.columns.iter().any(|s| s.non_null >= rows) {
            return Ok(None);
        }
        let (start, len) = (chunk.first_row as usize, chunk.rows as usize);
        let mut present = vec![false; len];
        for (pos, stats) in chunk.columns.iter().enumerate() {
            if stats.non_null == 0 {
                continue;
            }
            let block = self.block(chunk.page, pos + 2)?;
            let CachedBlock::Array(array) = &*block else {
                return Err(self.corrupt_index(Corruption::Invalid { what: "column slot", value: pos as u64 }));
            };
            self.check_rows(chunk, pos + 2, array.len())?;
            let array = array.slice(start, len);
            let Some(nulls) = array.logical_nulls().filter(|n| n.null_count() > 0) else {
                return Ok(None);
            };
            for i in nulls.valid_indices() {
                if let Some(p) = present.get_mut(i) {
                    *p = true;
                }
            }
        }
        Ok((!present.iter().all(|p| *p)).then_some(present))
    }
}
