//! Parquet export: [`export`].
//!
//! Reads one [`Snapshot`] (taken when the export starts, so rows acknowledged before the start
//! are all there and nothing written later is, whatever ingest does meanwhile) and writes
//! Hive-style partitions by UTC day: `dest/date=YYYY-MM-DD/part-N.parquet`, which DuckDB
//! (`hive_partitioning`), Spark, Polars and pyarrow datasets discover as a `date` column.
//! Columns: `series` (string, dictionary-encoded), `ts` (timestamp ns UTC), then
//! `family.column` (typed, nullable). Within a file rows are in series-key then time order;
//! `N` is unique within the export. File layout and encodings: `writer.rs`.
//!
//! Parallelism: the selected series are cut into contiguous key ranges, one per worker thread
//! (as many as the rayon pool has threads); each worker scans its range (the scan itself reads
//! series in parallel) and encodes its own part files, so decoding and Parquet encoding use
//! every core. Workers report to the calling thread, which calls `progress`. Memory stays
//! bounded: per worker a scan batch and the row groups in progress of its open partitions
//! (flushed early past a budget).
//!
//! Disk stays bounded too: every byte written is charged to the query's `max_bytes` quota
//! (`quota.rs`) as it is written; past it the workers fail, everything under the destination
//! is removed and the export answers [`Error::ExportQuota`].

mod date;
mod partitions;
mod quota;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::sync::mpsc;
use std::time::Instant;

use isobar_storage::{Db, Projection, ScanRequest, SeriesSelector, Snapshot};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::queries::ExportQuery;
use partitions::Partitions;
use quota::Quota;
pub use writer::ExportedFile;
use writer::properties;

/// Bytes of row groups in progress, over all workers, before a worker flushes its largest.
const BUFFER_BUDGET: usize = 512 << 20;

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

/// A worker's report.
enum Event {
    Batch { rows: u64, points: u64 },
    File(ExportedFile),
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
    let table = snapshot.table(&q.table)?;
    let projection = Projection::resolve(table, &q.columns).map_err(isobar_storage::Error::from)?;
    check_destination(dest_dir)?;
    let mut keys: Vec<Arc<str>> =
        projection.families.iter().flat_map(|(f, _)| snapshot.series_keys(f, &q.selector)).collect();
    keys.sort_unstable();
    keys.dedup();
    let workers = rayon::current_num_threads().clamp(1, 8).min(keys.len().max(1));
    let schema = projection.schema();
    let props = properties(&schema, q.row_group_rows)?;
    let next_part = AtomicU32::new(0);
    let quota = Quota::new(q.max_bytes);
    let mut summary = ExportSummary { snapshot_seq: snapshot.seq(), ..ExportSummary::default() };
    let (tx, rx) = mpsc::sync_channel::<Event>(64);
    let written = std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (lo, hi) = (keys.len() * w / workers, keys.len() * (w + 1) / workers);
            let Some(selector) = key_range(&keys, lo, hi) else { continue };
            let mut req = ScanRequest::new(&q.table).selector(selector).range(q.range).columns(q.columns.clone());
            req.batch_rows = SCAN_BATCH_ROWS;
            let mut parts = Partitions::new(
                dest_dir,
                Arc::clone(&schema),
                props.clone(),
                q.file_rows.max(1),
                BUFFER_BUDGET / workers,
                &next_part,
                &quota,
            );
            let tx = tx.clone();
            handles.push(scope.spawn(move || -> Result<()> {
                let mut send_file = |f: ExportedFile| {
                    // The receiver lives until every worker is joined.
                    let _ = tx.send(Event::File(f));
                };
                for batch in snapshot.scan(&req)? {
                    let added = parts.write(&batch?, &mut send_file)?;
                    let _ = tx.send(Event::Batch { rows: added.rows, points: added.points });
                }
                parts.finish(&mut send_file)
            }));
        }
        drop(tx);
        for event in rx {
            match event {
                Event::Batch { rows, points } => {
                    summary.rows += rows;
                    summary.points += points;
                }
                Event::File(f) => {
                    summary.bytes += f.bytes;
                    summary.files.push(f);
                }
            }
            progress(ExportProgress {
                rows: summary.rows,
                points: summary.points,
                files: summary.files.len() as u64,
                bytes: summary.bytes,
            });
        }
        for h in handles {
            h.join().map_err(|_| Error::WorkerPanicked)??;
        }
        Ok(())
    });
    if let Err(error) = written {
        if let Some(limit) = quota.exceeded() {
            remove_contents(dest_dir)?;
            return Err(Error::ExportQuota { limit });
        }
        return Err(error);
    }
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(summary)
}

/// The selector of `keys[lo..hi]` (contiguous in key order, so a key range selects exactly
/// them among the keys the original selector matched).
fn key_range(keys: &[Arc<str>], lo: usize, hi: usize) -> Option<SeriesSelector> {
    let first = keys.get(lo)?;
    let last = keys.get(hi.checked_sub(1)?)?;
    if hi <= lo {
        return None;
    }
    Some(SeriesSelector::Range { start: Some(first.to_string()), end: Some(format!("{last}\0")) })
}

/// Removes everything under `dir` (an export's destination, empty when it started), keeping
/// `dir` itself. Symbolic links are removed, never followed.
fn remove_contents(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io("read directory", dir))? {
        let path = entry.map_err(Error::io("read directory", dir))?.path();
        let is_dir = std::fs::symlink_metadata(&path).map_err(Error::io("stat", &path))?.is_dir();
        let removed = if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(Error::io("remove", &path))?;
    }
    Ok(())
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
