//! Reading rows: [`SstReader::read`] and [`SstReader::read_chunk`].
//!
//! A chunk is read by slicing the decoded (and cached) blocks of its page: `ts`, `seq`, and the
//! requested columns only. A column whose statistics say the chunk holds no value is produced as
//! nulls without touching the disk. Several chunks of a series are concatenated into one run.
//! These read the file as it is; the engine reads through [`SstReader::read_present`] and
//! [`SstReader::read_chunk_present`], which drop rows without any present cell (written by older
//! versions, see `present.rs`).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, new_null_array};
use arrow_buffer::ScalarBuffer;

use super::cache::CachedBlock;
use super::error::{Corruption, Error};
use super::index::{ChunkMeta, SeriesEntry};
use super::reader::SstReader;
use crate::read::merge::keep_rows;
use crate::run::Run;
use crate::schema::ColumnId;
use crate::selector::TimeRange;

impl SstReader {
    /// The rows of `entry` in `range`, with the requested `columns` that this file has (in
    /// ascending id order); `None` when no row falls in the range. Only chunks overlapping the
    /// range are read.
    pub fn read(&self, entry: &SeriesEntry, range: TimeRange, columns: &[ColumnId]) -> Result<Option<Run>, Error> {
        self.read_rows(entry, range, columns, false)
    }

    /// [`SstReader::read`] without the rows that have no present cell in any column of the file:
    /// the rows of the data model, which is what the engine's reads and compaction use.
    pub fn read_present(
        &self,
        entry: &SeriesEntry,
        range: TimeRange,
        columns: &[ColumnId],
    ) -> Result<Option<Run>, Error> {
        self.read_rows(entry, range, columns, true)
    }

    /// [`SstReader::read_chunk`] without the rows that have no present cell in any column of the
    /// file (the returned run may be empty).
    pub fn read_chunk_present(
        &self,
        entry: &SeriesEntry,
        chunk: &ChunkMeta,
        columns: &[ColumnId],
    ) -> Result<Run, Error> {
        let run = self.read_chunk(entry, chunk, columns)?;
        Ok(match self.rows_with_cells(chunk)? {
            None => run,
            Some(mask) => keep_rows(run, mask),
        })
    }

    fn read_rows(
        &self,
        entry: &SeriesEntry,
        range: TimeRange,
        columns: &[ColumnId],
        present_only: bool,
    ) -> Result<Option<Run>, Error> {
        let mut parts = Vec::new();
        for chunk in self.chunks(entry).iter().filter(|c| range.overlaps(c.min_ts, c.max_ts)) {
            let run = if present_only {
                self.read_chunk_present(entry, chunk, columns)?
            } else {
                self.read_chunk(entry, chunk, columns)?
            };
            let run = if range.covers(chunk.min_ts, chunk.max_ts) { run } else { run.slice_time(range) };
            if !run.is_empty() {
                parts.push(run);
            }
        }
        match parts.len() {
            0 => Ok(None),
            1 => Ok(parts.pop()),
            _ => concat_runs(&parts).map(Some).map_err(|reason| self.corrupt_index(reason)),
        }
    }

    /// All rows of one chunk of `entry` with the requested `columns` that this file has.
    pub fn read_chunk(&self, entry: &SeriesEntry, chunk: &ChunkMeta, columns: &[ColumnId]) -> Result<Run, Error> {
        let (start, len) = (chunk.first_row as usize, chunk.rows as usize);
        let ts = self.ints(chunk.page, 0)?;
        let seq = self.ints(chunk.page, 1)?;
        self.check_rows(chunk, 0, ts.len())?;
        self.check_rows(chunk, 1, seq.len())?;
        let ts = ts.slice(start, len);
        let seq = ScalarBuffer::<u64>::new(seq.inner().clone(), start, len);
        if ts.first() != Some(&chunk.min_ts) || ts.last() != Some(&chunk.max_ts) {
            let (handle, block) = self.block_ref(chunk.page, 0);
            let found = ts.first().copied().unwrap_or_default();
            return Err(Error::Corrupt {
                file: self.path.clone(),
                block,
                offset: handle.offset,
                reason: Corruption::Mismatch {
                    what: "first ts of chunk",
                    expected: chunk.min_ts as u64,
                    found: found as u64,
                },
            });
        }
        let mut wanted: Vec<ColumnId> = columns.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        for id in wanted {
            let Some(pos) = self.column_position(id) else {
                continue;
            };
            let (Some(col), Some(stats)) = (self.info.columns.get(pos), chunk.columns.get(pos)) else {
                continue;
            };
            let array = if stats.non_null == 0 {
                new_null_array(&col.ty.arrow_type(), len)
            } else {
                match &*self.block(chunk.page, pos + 2)? {
                    CachedBlock::Array(a) => {
                        self.check_rows(chunk, pos + 2, a.len())?;
                        a.slice(start, len)
                    }
                    CachedBlock::Ints(_) => {
                        return Err(self.corrupt_index(Corruption::Invalid { what: "column slot", value: pos as u64 }));
                    }
                }
            };
            out.push((id, array));
        }
        Ok(Run { series: entry.key.clone(), ts, seq, columns: out })
    }

    /// The decoded integers of block `slot` (ts or seq) of `page`.
    fn ints(&self, page: u32, slot: usize) -> Result<ScalarBuffer<i64>, Error> {
        match &*self.block(page, slot)? {
            CachedBlock::Ints(v) => Ok(v.clone()),
            CachedBlock::Array(_) => {
                Err(self.corrupt_index(Corruption::Invalid { what: "integer slot", value: slot as u64 }))
            }
        }
    }

    /// Checks that a decoded block of `have` rows holds the rows of `chunk` (slicing panics
    /// otherwise; the index and the decoder have checked this already, this guards the cache).
    pub(super) fn check_rows(&self, chunk: &ChunkMeta, slot: usize, have: usize) -> Result<(), Error> {
        let need = chunk.first_row as usize + chunk.rows as usize;
        if need <= have {
            return Ok(());
        }
        let (handle, block) = self.block_ref(chunk.page, slot);
        Err(Error::Corrupt {
            file: self.path.clone(),
            block,
            offset: handle.offset,
            reason: Corruption::Mismatch { what: "rows in block", expected: need as u64, found: have as u64 },
        })
    }

    pub(super) fn corrupt_index(&self, reason: Corruption) -> Error {
        Error::Corrupt {
            file: self.path.clone(),
            block: super::error::BlockRef::Index,
            offset: self.footer().index.offset,
            reason,
        }
    }
}

/// Concatenates runs of one series that follow each other in time and carry the same columns.
fn concat_runs(parts: &[Run]) -> Result<Run, Corruption> {
    let first = parts.first().ok_or(Corruption::Invalid { what: "runs to concatenate", value: 0 })?;
    let ts: Vec<i64> = parts.iter().flat_map(|p| p.ts.iter().copied()).collect();
    let seq: Vec<u64> = parts.iter().flat_map(|p| p.seq.iter().copied()).collect();
    let mut columns: Vec<(ColumnId, ArrayRef)> = Vec::with_capacity(first.columns.len());
    for (i, (id, _)) in first.columns.iter().enumerate() {
        let arrays: Vec<&dyn Array> = parts.iter().filter_map(|p| p.columns.get(i).map(|(_, a)| a.as_ref())).collect();
        let array = arrow_select::concat::concat(&arrays).map_err(|_| Corruption::Invalid {
            what: "column types differ between chunks, column",
            value: u64::from(*id),
        })?;
        columns.push((*id, array));
    }
    Ok(Run { series: Arc::clone(&first.series), ts: ts.into(), seq: seq.into(), columns })
}
