//! Parquet export: [`export`] on the server, [`ExportWriter`] for batches a client received.
//!
//! Both write one layout, the same way:
//!
//! ```text
//! dest/[<family>/][date=YYYY-MM-DD | month=YYYY-MM | year=YYYY/]part-N.parquet
//! ```
//!
//! - **Partitions** ([`Partition`], `partition.rs`): Hive-style directories by UTC day, month or
//!   year, or none, which DuckDB (`hive_partitioning`), Spark, Polars and pyarrow datasets
//!   discover as a `date`, `month` or `year` column. [`Partitioning::Auto`] chooses from the
//!   span and size of the data ([`auto_partition`]).
//! - **Names** ([`Naming`], `naming.rs`): columns `series` (string), `ts` (timestamp ns UTC),
//!   then `family.column`, `family_column`, or one set of files per family (`dest/<family>/`)
//!   with bare column names. An [`ExportGroup`] is one set of files.
//! - **Files** (`partitions.rs`, `writer.rs`): a part file ends, and the partition's next
//!   `part-N` starts, when it reaches [`ExportQuery::target_file_bytes`] (about: measured as
//!   bytes written plus the encoder's estimate of the row group in progress) or holds
//!   [`ExportQuery::file_rows`] rows. `N` is unique within the export; within a file rows are in
//!   series-key then time order. File layout and encodings: `writer.rs`.
//! - **Destination** (`destination.rs`): must be empty, or with [`ExportQuery::overwrite`] hold
//!   only what an export writes, which is removed first; a refused export changes nothing, a
//!   failed one removes what it wrote.
//!
//! [`export`] reads one [`Snapshot`] (taken when the export starts, so rows acknowledged before
//! the start are all there and nothing written later is, whatever ingest does meanwhile). The
//! selected series are cut into contiguous key ranges, one per worker thread (as many as the
//! rayon pool has threads, but one per [`SMALL_EXPORT_CELLS`] of estimated data: a small export
//! has one worker, so one file per partition); each worker scans its range, group by group (the
//! scan itself reads series in parallel), and encodes its own part files, so decoding and
//! Parquet encoding use every core (a large export has a file per worker in each partition). Workers report to the calling thread, which calls `progress`. Memory stays
//! bounded: per worker a scan batch and the row groups in progress of its open partitions
//! (flushed early past a budget). Every byte written is charged to the query's `max_bytes`
//! quota (`quota.rs`) as it is written; past it the workers fail, everything under the
//! destination is removed and the export answers [`Error::ExportQuota`].
//!
//! [`ExportWriter`] writes batches in the order given, on the calling thread: the client side of
//! `isobar export --to-local`, which streams a scan and writes the same files on its own disk.

mod date;
mod destination;
mod extent;
mod naming;
mod partition;
mod partitions;
mod quota;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use arrow_array::RecordBatch;
use isobar_storage::{Db, Projection, ScanRequest, SeriesSelector, Snapshot, TableDef};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::queries::ExportQuery;
pub use destination::{check_destination, prepare_destination};
pub use naming::{ExportGroup, Naming, check_partition_column, groups};
pub use partition::{Extent, Partition, Partitioning, SMALL_EXPORT_CELLS, auto_partition};
use partitions::{FileLimits, Partitions, Shared};
pub use writer::ExportedFile;
use writer::properties;

/// Bytes of row groups in progress, over all workers, before a worker flushes its largest.
const BUFFER_BUDGET: usize = 512 << 20;

/// Rows per scan batch.
const SCAN_BATCH_ROWS: usize = 65_536;

/// The default target size of a part file: 128 MiB, large enough that readers open few files,
/// small enough to parallelise over.
pub const DEFAULT_TARGET_FILE_BYTES: u64 = 128 << 20;

/// The smallest target file size a request may ask for (64 KiB): smaller files only cost
/// their readers.
pub const MIN_TARGET_FILE_BYTES: u64 = 64 << 10;

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
    /// number up to this one is in the files, nothing later is (0 for [`ExportWriter`], which
    /// does not know the server's snapshot).
    pub snapshot_seq: u64,
    /// The partitioning used (what [`Partitioning::Auto`] chose, when asked).
    #[serde(default)]
    pub partition: Partition,
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

impl ExportSummary {
    fn progress(&self) -> ExportProgress {
        ExportProgress { rows: self.rows, points: self.points, files: self.files.len() as u64, bytes: self.bytes }
    }

    fn add_file(&mut self, f: ExportedFile) {
        self.bytes += f.bytes;
        self.files.push(f);
    }
}

/// Everything an export's writers need to know: which sets of files, partitioned how, how
/// large.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPlan {
    /// The sets of files (one, or one per family).
    pub groups: Vec<ExportGroup>,
    /// The partitioning (resolved: never [`Partitioning::Auto`]).
    pub partition: Partition,
    /// The most rows in one file.
    pub file_rows: u64,
    /// A file ends once it reaches about this many bytes.
    pub target_file_bytes: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl ExportPlan {
    /// The plan of `q` over `table` partitioned by `partition` (what `q.partition` asked, or
    /// what [`auto_partition`] chose for it). Refuses clashing column names
    /// ([`Error::ExportColumnName`]).
    pub fn new(table: &TableDef, q: &ExportQuery, partition: Partition) -> Result<Self> {
        let groups = groups(table, &q.columns, q.naming)?;
        check_partition_column(&groups, q.naming, partition)?;
        Ok(Self {
            groups,
            partition,
            file_rows: q.file_rows.max(1),
            target_file_bytes: q.target_file_bytes.max(1),
            row_group_rows: q.row_group_rows.max(1),
        })
    }

    fn limits(&self) -> FileLimits {
        FileLimits { rows: self.file_rows, bytes: self.target_file_bytes }
    }

    /// The directory a group's files go under.
    fn dir(dest: &Path, group: &ExportGroup) -> PathBuf {
        match &group.family {
            Some(family) => dest.join(family),
            None => dest.to_path_buf(),
        }
    }

    /// Writer properties per group.
    fn properties(&self) -> Result<Vec<WriterProperties>> {
        self.groups.iter().map(|g| properties(&g.schema, self.row_group_rows)).collect()
    }
}

/// Exports `q` from a snapshot of `db` taken now into `dest_dir` (created if missing; must be
/// empty unless `q.overwrite`), calling `progress` after each batch.
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
    groups(table, &q.columns, q.naming)?;
    check_destination(dest_dir, q.overwrite)?;
    let mut keys: Vec<Arc<str>> =
        projection.families.iter().flat_map(|(f, _)| snapshot.series_keys(f, &q.selector)).collect();
    keys.sort_unstable();
    keys.dedup();
    let extent = extent::estimate(snapshot, table, &projection, &keys, q.range)?;
    let partition = q.partition.fixed().unwrap_or_else(|| auto_partition(&extent));
    let plan = ExportPlan::new(table, q, partition)?;
    let props = plan.properties()?;
    prepare_destination(dest_dir, q.overwrite)?;
    // Each worker writes its own files in every partition its series reach: a small export
    // gets one worker (one file per partition), a large one a worker per small export's worth.
    let by_size = usize::try_from(extent.cells / SMALL_EXPORT_CELLS).unwrap_or(usize::MAX).max(1);
    let workers = rayon::current_num_threads().clamp(1, 8).min(keys.len().max(1)).min(by_size);
    let shared = Shared::new(q.max_bytes);
    let mut summary = ExportSummary { snapshot_seq: snapshot.seq(), partition, ..ExportSummary::default() };
    let (tx, rx) = mpsc::sync_channel::<Event>(64);
    let written = std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (lo, hi) = (keys.len() * w / workers, keys.len() * (w + 1) / workers);
            let Some(selector) = key_range(&keys, lo, hi) else { continue };
            let (tx, shared, plan, props) = (tx.clone(), Arc::clone(&shared), &plan, &props);
            handles.push(scope.spawn(move || -> Result<()> {
                let mut send_file = |f: ExportedFile| {
                    // The receiver lives until every worker is joined.
                    let _ = tx.send(Event::File(f));
                };
                for (group, props) in plan.groups.iter().zip(props) {
                    let mut req = ScanRequest::new(&q.table)
                        .selector(selector.clone())
                        .range(q.range)
                        .columns(group.columns.clone());
                    req.batch_rows = SCAN_BATCH_ROWS;
                    let mut parts = Partitions::new(
                        ExportPlan::dir(dest_dir, group),
                        Arc::clone(&group.schema),
                        props.clone(),
                        plan.partition,
                        plan.limits(),
                        BUFFER_BUDGET / workers,
                        Arc::clone(&shared),
                    );
                    for batch in snapshot.scan(&req)? {
                        let added = parts.write(&group.adapt(&batch?)?, &mut send_file)?;
                        let _ = tx.send(Event::Batch { rows: added.rows, points: added.points });
                    }
                    parts.finish(&mut send_file)?;
                }
                Ok(())
            }));
        }
        drop(tx);
        for event in rx {
            match event {
                Event::Batch { rows, points } => {
                    summary.rows += rows;
                    summary.points += points;
                }
                Event::File(f) => summary.add_file(f),
            }
            progress(summary.progress());
        }
        for h in handles {
            h.join().map_err(|_| Error::WorkerPanicked)??;
        }
        Ok(())
    });
    if let Err(error) = written {
        destination::remove_contents(dest_dir)?;
        if let Some(limit) = shared.quota.exceeded() {
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

/// Writes an export from batches handed to it, on the calling thread: a client writing what a
/// scan streamed to it. Same layout, names and file sizes as [`export`]; no byte quota.
///
/// ```
/// use isobar_query::ExportQuery;
/// use isobar_query::export::{ExportPlan, ExportWriter, Partition};
/// use isobar_storage::{ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesWrite, TableSpec};
///
/// let dir = tempfile::tempdir().unwrap();
/// let db = Db::open(&dir.path().join("db"), Options::default()).unwrap();
/// db.create_table(TableSpec::new("w").family("obs", &[("temp", ColumnType::F64)])).unwrap();
/// db.write(SeriesWrite::new("w", "KSEA", vec![0, 1]).column("obs", "temp", ColumnValues::F64(vec![1.0, 2.0]))).unwrap();
/// let snapshot = db.snapshot();
/// let plan = ExportPlan::new(snapshot.table("w").unwrap(), &ExportQuery::new("w"), Partition::None).unwrap();
/// let mut writer = ExportWriter::create(&dir.path().join("out"), &plan, false).unwrap();
/// for batch in snapshot.scan(&ScanRequest::new("w").columns(plan.groups[0].columns.clone())).unwrap() {
///     writer.write(0, &batch.unwrap()).unwrap();
/// }
/// let summary = writer.finish().unwrap();
/// assert_eq!((summary.rows, summary.files.len()), (2, 1));
/// assert!(dir.path().join("out/part-0.parquet").exists());
/// # db.close().unwrap();
/// ```
pub struct ExportWriter {
    dest: PathBuf,
    groups: Vec<(ExportGroup, Partitions)>,
    summary: ExportSummary,
    started: Instant,
}

impl ExportWriter {
    /// Prepares `dest` ([`prepare_destination`]: created, or emptied of a previous export with
    /// `overwrite`) and starts writing `plan`.
    pub fn create(dest: &Path, plan: &ExportPlan, overwrite: bool) -> Result<Self> {
        let props = plan.properties()?;
        prepare_destination(dest, overwrite)?;
        let shared = Shared::new(None);
        let groups = plan
            .groups
            .iter()
            .zip(props)
            .map(|(group, props)| {
                let parts = Partitions::new(
                    ExportPlan::dir(dest, group),
                    Arc::clone(&group.schema),
                    props,
                    plan.partition,
                    plan.limits(),
                    BUFFER_BUDGET,
                    Arc::clone(&shared),
                );
                (group.clone(), parts)
            })
            .collect();
        let summary = ExportSummary { partition: plan.partition, ..ExportSummary::default() };
        Ok(Self { dest: dest.to_path_buf(), groups, summary, started: Instant::now() })
    }

    /// Writes `batch`, a scan of group `group`'s columns (`series`, `ts`, then
    /// [`ExportGroup::columns`] in order). After an error, call [`ExportWriter::abort`].
    pub fn write(&mut self, group: usize, batch: &RecordBatch) -> Result<ExportProgress> {
        let Some((group, parts)) = self.groups.get_mut(group) else {
            return Err(Error::Arrow(arrow_schema::ArrowError::InvalidArgumentError(format!(
                "export group {group} does not exist (the plan has {})",
                self.groups.len()
            ))));
        };
        let summary = &mut self.summary;
        let added = parts.write(&group.adapt(batch)?, &mut |f| summary.add_file(f))?;
        summary.rows += added.rows;
        summary.points += added.points;
        Ok(summary.progress())
    }

    /// Finishes every file and answers what was written.
    pub fn finish(mut self) -> Result<ExportSummary> {
        let summary = &mut self.summary;
        let mut finished = Ok(());
        for (_, parts) in self.groups {
            finished = finished.and_then(|()| parts.finish(&mut |f| summary.add_file(f)));
        }
        if let Err(e) = finished {
            destination::remove_contents(&self.dest)?;
            return Err(e);
        }
        self.summary.elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(self.summary)
    }

    /// Stops, removing everything written (the destination stays, empty).
    pub fn abort(self) -> Result<()> {
        drop(self.groups);
        destination::remove_contents(&self.dest)
    }
}
