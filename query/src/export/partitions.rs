//! [`Partitions`]: the open part files of one writer of one export group, one per partition,
//! fed with scan batches that it splits by [`Partition`] period.
//!
//! A file ends, and the partition's next `part-N` starts, when it holds
//! [`FileLimits::rows`] rows or reaches [`FileLimits::bytes`] bytes (its size as
//! [`PartWriter::size`] estimates it). To stop near the byte target rather than a whole batch
//! past it, rows go into a file in slices sized from the bytes per row seen so far.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::file::properties::WriterProperties;

use super::partition::Partition;
use super::quota::Quota;
use super::writer::{ExportedFile, PartWriter};
use crate::error::Result;

/// Rows of the first slice written to a file before its bytes per row are known.
const PROBE_ROWS: usize = 1024;

/// What a batch added.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Added {
    /// Rows.
    pub rows: u64,
    /// Non-null cells.
    pub points: u64,
}

/// When a part file is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileLimits {
    /// At most this many rows.
    pub rows: u64,
    /// Ends once it reaches this many bytes.
    pub bytes: u64,
}

/// What the writers of one export share: part numbers (unique within the export) and the byte
/// quota.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The next part number.
    pub next_part: AtomicU32,
    /// Every byte written is charged here.
    pub quota: Arc<Quota>,
}

impl Shared {
    /// Parts from 0, at most `max_bytes` bytes in all (`None`: no limit).
    pub(crate) fn new(max_bytes: Option<u64>) -> Arc<Self> {
        Arc::new(Self { next_part: AtomicU32::new(0), quota: Arc::new(Quota::new(max_bytes)) })
    }
}

/// The part files one writer has open.
pub(crate) struct Partitions {
    dir: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
    partition: Partition,
    limits: FileLimits,
    buffer_budget: usize,
    shared: Arc<Shared>,
    /// Bytes per row of the last file measured, for the first slice of the next.
    bytes_per_row: Option<u64>,
    open: BTreeMap<i64, PartWriter>,
}

impl Partitions {
    /// No file open yet; files go under `dir` (the destination, or its family directory), in
    /// `partition` directories.
    pub(crate) fn new(
        dir: PathBuf,
        schema: SchemaRef,
        props: WriterProperties,
        partition: Partition,
        limits: FileLimits,
        buffer_budget: usize,
        shared: Arc<Shared>,
    ) -> Self {
        let limits = FileLimits { rows: limits.rows.max(1), bytes: limits.bytes.max(1) };
        Self {
            dir,
            schema,
            props,
            partition,
            limits,
            buffer_budget,
            shared,
            bytes_per_row: None,
            open: BTreeMap::new(),
        }
    }

    /// Splits `batch` (the group's schema: `series`, `ts`, columns) into runs of rows of one
    /// period and appends each to its partition, passing every file that fills up to `done`.
    pub(crate) fn write(&mut self, batch: &RecordBatch, done: &mut dyn FnMut(ExportedFile)) -> Result<Added> {
        let ts = batch.column(1).as_primitive::<TimestampNanosecondType>().values();
        let mut start = 0;
        while let Some(first) = ts.get(start) {
            let period = self.partition.period(*first);
            let len = ts.get(start..).unwrap_or_default().iter().take_while(|t| period.holds(**t)).count();
            self.append(period.key, &batch.slice(start, len), done)?;
            start += len;
        }
        self.bound_memory()?;
        let points = batch.columns().iter().skip(2).map(|c| (c.len() - c.null_count()) as u64).sum();
        Ok(Added { rows: batch.num_rows() as u64, points })
    }

    /// Finishes every open file.
    pub(crate) fn finish(self, done: &mut dyn FnMut(ExportedFile)) -> Result<()> {
        for (_, part) in self.open {
            done(part.finish()?);
        }
        Ok(())
    }

    /// How many rows of `part` may go in before it is full, judged by rows and by the bytes
    /// per row so far (at least one).
    fn room(&self, part: &PartWriter) -> usize {
        let rows = usize::try_from(self.limits.rows.saturating_sub(part.rows)).unwrap_or(usize::MAX).max(1);
        let size = part.size();
        let per_row = match part.rows {
            0 => self.bytes_per_row,
            n => Some(size.div_ceil(n)),
        };
        let by_size = match per_row {
            Some(per_row) if per_row > 0 => {
                let left = self.limits.bytes.saturating_sub(size) / per_row;
                usize::try_from(left).unwrap_or(usize::MAX).max(1)
            }
            _ => PROBE_ROWS,
        };
        rows.min(by_size)
    }

    /// Appends `rows` (all of period `key`) to that partition's part files: a file that is
    /// full is finished at once and the rest goes to the next part.
    fn append(&mut self, key: i64, rows: &RecordBatch, done: &mut dyn FnMut(ExportedFile)) -> Result<()> {
        let total = rows.num_rows();
        let mut offset = 0;
        while offset < total {
            if !self.open.contains_key(&key) {
                let n = self.shared.next_part.fetch_add(1, Ordering::Relaxed);
                let dir = match self.partition.dir(key) {
                    Some(sub) => self.dir.join(sub),
                    None => self.dir.clone(),
                };
                let part = PartWriter::create(
                    &dir,
                    self.partition.value(key),
                    n,
                    Arc::clone(&self.schema),
                    self.props.clone(),
                    Arc::clone(&self.shared.quota),
                )?;
                self.open.insert(key, part);
            }
            let Some(part) = self.open.get(&key) else { return Ok(()) };
            let take = self.room(part).min(total - offset);
            let Some(part) = self.open.get_mut(&key) else { return Ok(()) };
            part.write(&rows.slice(offset, take))?;
            offset += take;
            let size = part.size();
            if part.rows > 0 && size > 0 {
                self.bytes_per_row = Some(size.div_ceil(part.rows));
            }
            if (part.rows >= self.limits.rows || size >= self.limits.bytes)
                && let Some(full) = self.open.remove(&key)
            {
                done(full.finish()?);
            }
        }
        Ok(())
    }

    fn bound_memory(&mut self) -> Result<()> {
        let total: usize = self.open.values().map(PartWriter::buffered).sum();
        if total > self.buffer_budget
            && let Some(largest) = self.open.values_mut().max_by_key(|p| p.buffered())
        {
            largest.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
