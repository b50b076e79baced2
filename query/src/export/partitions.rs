//! [`Partitions`]: the open part files of one export worker, one per day, fed with scan
//! batches that it splits by UTC day.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::file::properties::WriterProperties;

use super::date;
use super::quota::Quota;
use super::writer::{ExportedFile, PartWriter};
use crate::error::Result;

/// What a batch added.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Added {
    /// Rows.
    pub rows: u64,
    /// Non-null cells.
    pub points: u64,
}

/// The part files one worker has open.
pub(crate) struct Partitions<'a> {
    dest: &'a Path,
    schema: SchemaRef,
    props: WriterProperties,
    file_rows: u64,
    buffer_budget: usize,
    next_part: &'a AtomicU32,
    quota: &'a Quota,
    open: BTreeMap<i64, PartWriter<'a>>,
}

impl<'a> Partitions<'a> {
    /// No file open yet; part numbers come from `next_part` (shared by all workers).
    pub(crate) fn new(
        dest: &'a Path,
        schema: SchemaRef,
        props: WriterProperties,
        file_rows: u64,
        buffer_budget: usize,
        next_part: &'a AtomicU32,
        quota: &'a Quota,
    ) -> Self {
        Self { dest, schema, props, file_rows, buffer_budget, next_part, quota, open: BTreeMap::new() }
    }

    /// Splits `batch` into runs of rows of one day and appends each to its partition; a file
    /// holds at most `file_rows` rows and is finished and passed to `done` when it has them.
    pub(crate) fn write(&mut self, batch: &RecordBatch, done: &mut dyn FnMut(ExportedFile)) -> Result<Added> {
        let ts = batch.column(1).as_primitive::<TimestampNanosecondType>().values();
        let mut start = 0;
        while start < ts.len() {
            let day = date::day_of(ts[start]);
            let len = ts[start..].iter().take_while(|t| date::day_of(**t) == day).count();
            self.append(day, &batch.slice(start, len), done)?;
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

    /// Appends `rows` (all of one day) to that day's part files, splitting them so that no file
    /// holds more than `file_rows` rows: a file that reaches the limit is finished at once and
    /// the rest goes to the next part.
    fn append(&mut self, day: i64, rows: &RecordBatch, done: &mut dyn FnMut(ExportedFile)) -> Result<()> {
        let total = rows.num_rows();
        let mut offset = 0;
        while offset < total {
            if !self.open.contains_key(&day) {
                let n = self.next_part.fetch_add(1, Ordering::Relaxed);
                let date = date::date_string(day);
                let dir = self.dest.join(format!("date={date}"));
                let part =
                    PartWriter::create(&dir, &date, n, Arc::clone(&self.schema), self.props.clone(), self.quota)?;
                self.open.insert(day, part);
            }
            let Some(part) = self.open.get_mut(&day) else { return Ok(()) };
            let room = usize::try_from(self.file_rows.saturating_sub(part.rows)).unwrap_or(usize::MAX).max(1);
            let take = room.min(total - offset);
            part.write(&rows.slice(offset, take))?;
            offset += take;
            if part.rows >= self.file_rows
                && let Some(full) = self.open.remove(&day)
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
