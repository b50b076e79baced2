//! Parquet export: [`export`].
//!
//! Reads one [`Snapshot`] (taken when the export starts, so rows acknowledged before the start
//! are all there and nothing written later is, whatever ingest does meanwhile) with a scan
//! running in parallel on the rayon pool, and writes Hive-style partitions by UTC day:
//! `dest/date=YYYY-MM-DD/part-N.parquet`, which DuckDB (`hive_partitioning`), Spark, Polars and
//! pyarrow datasets discover as a `date` column. Columns: `series` (string, dictionary-encoded),
//! `ts` (timestamp ns UTC), then `family.column` (typed, nullable). Within a file rows are in
//! series-key then time order. File layout and encodings: [`writer`].
//!
//! Scanning and writing overlap: the scan produces batches on a helper thread into a bounded
//! queue, the calling thread splits them by day and encodes. Memory stays bounded: a few scan
//! batches, plus the row group in progress of each open partition (flushed early when they
//! add up to more than 256 MiB).

mod date;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, RecordBatch};
use isobar_storage::{Db, ScanRequest, Snapshot};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::queries::ExportQuery;
pub use writer::ExportedFile;
use writer::{PartWriter, properties};

/// Bytes of row groups in progress, over all open partitions, before the largest is flushed.
const BUFFER_BUDGET: usize = 256 << 20;

/// Rows per scan batch.
const SCAN_BATCH_ROWS: usize = 65_536;

/// Progress of a running export, reported after every batch written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportProgress {
    /// Rows written so far.
    pub rows: u64,
    /// Points (non-null cells) written so far.
    pub points: u64,
    /// Files finished so far.
    pub files: u64,
    /// Bytes of finished files.
    pub bytes: u64,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    /// Sequence number of the snapshot exported: every write acknowledged with a sequence
    /// number up to this one is in the files, nothing later is.
    pub snapshot_seq: u64,
    /// Rows written.
    pub rows: u64,
    /// Points (non-null cells) written.
    pub points: u64,
    /// Total size of the files.
    pub bytes: u64,
    /// The files, in the order they were finished.
    pub files: Vec<ExportedFile>,
    /// Wall-clock time, milliseconds.
    pub elapsed_ms: u64,
}

/// Exports `q` from a snapshot of `db` taken now into `dest_dir` (created if missing; must be
/// empty), calling `progress` after each batch.
pub fn export(
    db: &Db,
    q: &ExportQuery,
    dest_dir: &Path,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ExportSummary> {
    export_snapshot(&db.snapshot(), q, dest_dir, progress)
}

/// [`export`] of an existing snapshot.
pub fn export_snapshot(
    snapshot: &Snapshot,
    q: &ExportQuery,
    dest_dir: &Path,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ExportSummary> {
    let started = Instant::now();
    if q.range.is_empty() {
        return Err(Error::EmptyRange { from: q.range.from, to: q.range.to });
    }
    check_destination(dest_dir)?;
    let mut req = ScanRequest::new(&q.table).selector(q.selector.clone()).range(q.range).columns(q.columns.clone());
    req.batch_rows = SCAN_BATCH_ROWS;
    let scan = snapshot.scan(&req)?;
    let schema = scan.schema();
    let props = properties(&schema, q.row_group_rows)?;
    let mut state = State {
        dest: dest_dir,
        schema: Arc::clone(&schema),
        props,
        file_rows: q.file_rows.max(1),
        open: BTreeMap::new(),
        next_part: BTreeMap::new(),
        summary: ExportSummary { snapshot_seq: snapshot.seq(), ..ExportSummary::default() },
    };
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<RecordBatch>>(4);
        scope.spawn(move || {
            for batch in scan {
                let stop = batch.is_err();
                if tx.send(batch.map_err(Error::from)).is_err() || stop {
                    return;
                }
            }
        });
        for batch in rx {
            state.write(&batch?)?;
            progress(state.progress());
        }
        Ok(())
    })?;
    for (_, part) in std::mem::take(&mut state.open) {
        state.finished(part.finish()?);
    }
    progress(state.progress());
    state.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(state.summary)
}

fn check_destination(dest: &Path) -> Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::DestinationNotEmpty { path: dest.to_path_buf() });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dest).map_err(Error::io("create directory", dest))
        }
        Err(e) => Err(Error::Io { op: "read directory", path: dest.to_path_buf(), source: e }),
    }
}

struct State<'a> {
    dest: &'a Path,
    schema: arrow_schema::SchemaRef,
    props: parquet::file::properties::WriterProperties,
    file_rows: u64,
    open: BTreeMap<i64, PartWriter>,
    next_part: BTreeMap<i64, u32>,
    summary: ExportSummary,
}

impl State<'_> {
    fn progress(&self) -> ExportProgress {
        ExportProgress {
            rows: self.summary.rows,
            points: self.summary.points,
            files: self.summary.files.len() as u64,
            bytes: self.summary.bytes,
        }
    }

    fn finished(&mut self, file: ExportedFile) {
        self.summary.bytes += file.bytes;
        self.summary.files.push(file);
    }

    /// Splits `batch` into runs of rows of one day and appends each to its partition.
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let ts = batch.column(1).as_primitive::<TimestampNanosecondType>().values();
        let mut start = 0;
        while start < ts.len() {
            let day = date::day_of(ts[start]);
            let len = ts[start..].iter().take_while(|t| date::day_of(**t) == day).count();
            self.append(day, &batch.slice(start, len))?;
            start += len;
        }
        self.summary.rows += batch.num_rows() as u64;
        self.summary.points += batch.columns().iter().skip(2).map(|c| (c.len() - c.null_count()) as u64).sum::<u64>();
        self.bound_memory()
    }

    fn append(&mut self, day: i64, rows: &RecordBatch) -> Result<()> {
        let full = self.open.get(&day).is_some_and(|p| p.rows >= self.file_rows);
        if full && let Some(part) = self.open.remove(&day) {
            let done = part.finish()?;
            self.finished(done);
        }
        if !self.open.contains_key(&day) {
            let n = self.next_part.entry(day).or_insert(0);
            let date = date::date_string(day);
            let dir = self.dest.join(format!("date={date}"));
            let part = PartWriter::create(&dir, &date, *n, Arc::clone(&self.schema), self.props.clone())?;
            *n += 1;
            self.open.insert(day, part);
        }
        match self.open.get_mut(&day) {
            Some(part) => part.write(rows),
            None => Ok(()),
        }
    }

    fn bound_memory(&mut self) -> Result<()> {
        let total: usize = self.open.values().map(PartWriter::buffered).sum();
        if total > BUFFER_BUDGET
            && let Some(largest) = self.open.values_mut().max_by_key(|p| p.buffered())
        {
            largest.flush()?;
        }
        Ok(())
    }
}
