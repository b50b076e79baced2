//! The flush worker: writes frozen memtables to SSTables, oldest first, one family at a time.
//!
//! A flush writes one `sst/<id>.sst.tmp` per time window its rows touch (see
//! [`crate::compaction`]), fsyncs them, renames them into place and fsyncs the directory, then
//! records the `AddFile`s and the family's flushed sequence number in one manifest edit, then
//! swaps in a version without the frozen memtable. A crash at any point leaves either no trace
//! (the temporary file is deleted at the next open, the WAL still has the rows) or a complete,
//! recorded file. A failed flush is retried with back-off (100 ms doubling to 10 s, or at once
//! when [`Db::flush`] is called): the rows stay in memory and in the WAL, its output files are
//! deleted, and writers are held back by the memory budget meanwhile. The one exception is a
//! manifest whose `fsync` failed: whether the edit reached the disk is unknown, so the output
//! files stay (the next open deletes them if the manifest does not list them) and the database
//! refuses writes until reopened. A poisoned database does not flush at all: its memtables may
//! hold writes that were never acknowledged, which only the WAL replay of a reopen may bring back.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::version::SstFile;
use super::{Db, DbInner, ManifestCell};
use crate::compaction::output::WindowedWriter;
use crate::error::{Error, Result};
use crate::manifest::{Edit, FileMeta, Tombstone};
use crate::schema::{FamilyId, TableDef, TableId};
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{SstReader, SstWriterOptions};

/// Work for the flush thread.
#[derive(Debug)]
pub(crate) enum Job {
    /// Flush the oldest frozen memtable of a family.
    Flush(FamilyId),
    /// Finish and exit.
    Stop,
}

/// Why flushes fail, kept while they do.
#[derive(Clone, Debug)]
pub(crate) struct FlushFailure {
    /// The error of the last attempt.
    pub reason: String,
    /// The file that could not be written because the disk is full, if that was the cause.
    pub disk_full: Option<PathBuf>,
}

impl FlushFailure {
    fn of(e: &Error) -> Self {
        Self { reason: e.to_string(), disk_full: e.disk_full_path().map(Path::to_path_buf) }
    }

    /// The error a caller held back by the failing flushes gets.
    pub fn to_error(&self) -> Error {
        match &self.disk_full {
            Some(path) => Error::DiskFull { during: "flush", path: path.clone(), resumes: true },
            None => Error::FlushFailing { reason: self.reason.clone() },
        }
    }
}

/// Runs the flush loop until `Job::Stop` or until the database is gone.
pub(crate) fn run(inner: Weak<DbInner>, jobs: crossbeam_channel::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let Job::Flush(family) = job else { return };
        let Some(inner) = inner.upgrade() else { return };
        let db = Db { inner };
        let mut backoff = Duration::from_millis(100);
        loop {
            // A nudge sent before this attempt began is answered by it.
            let _ = db.inner.flush_retry.1.try_recv();
            match db.flush_oldest(family) {
                Ok(()) => {
                    db.inner.flush_error.lock().take();
                    break;
                }
                Err(e) => {
                    *db.inner.flush_error.lock() = Some(FlushFailure::of(&e));
                    db.inner.flush_failures.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    db.inner.progress.1.notify_all();
                    if db.check_writable().is_err() {
                        // Closed, or poisoned: nothing may be flushed any more (see the module doc).
                        return;
                    }
                    tracing::error!(family, error = %e, retry_in = ?backoff, "flush failed; rows stay in memory and in the WAL");
                    let _ = db.inner.flush_retry.1.recv_timeout(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        db.inner.progress.1.notify_all();
    }
}

/// Path of SSTable `id` in `dir`.
pub(crate) fn sst_path(dir: &Path, id: u64) -> PathBuf {
    dir.join("sst").join(format!("{id:020}.sst"))
}

impl Db {
    fn flush_oldest(&self, family: FamilyId) -> Result<()> {
        self.check_writable()?;
        let sv = self.current();
        let Some(fv) = sv.families.get(&family) else { return Ok(()) };
        let Some(frozen) = fv.frozen.first().cloned() else { return Ok(()) };
        let Some(table) = sv.table_by_id(fv.table).cloned() else { return Ok(()) };
        let (tombstones, mark) = self.tombstones_for(table.id, family);
        let written = self.write_ssts(family, &table, &frozen.mem, &tombstones, mark)?;
        let mut edits: Vec<Edit> = written.iter().cloned().map(Edit::AddFile).collect();
        edits.push(Edit::FlushedSeq { family, seq: frozen.switch_seq });
        // The producer table's changes ride in the same edit group (see crate::producer).
        let persisting = self.inner.producer_persist.lock();
        let (producers, delta) = match self.producer_edit() {
            Ok(x) => x,
            Err(e) => {
                for meta in &written {
                    let _ = self.inner.opts.fs.remove_file(&sst_path(&self.inner.dir, meta.id));
                }
                return Err(e);
            }
        };
        edits.push(producers);
        if let Err(e) = self.commit_files(edits, &written) {
            self.restore_producer_delta(delta);
            return Err(e);
        }
        drop(persisting);
        let files = self.open_files(&written)?;
        let bytes: u64 = written.iter().map(|m| m.size).sum();
        self.inner.counters.flush_bytes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        self.install(|sv| {
            if let Some(f) = sv.families.get_mut(&family) {
                f.frozen.retain(|x| !Arc::ptr_eq(&x.mem, &frozen.mem));
                f.files.extend(files);
            }
        });
        self.inner.counters.flushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.remove_obsolete_wal();
        self.inner.window_files.store(self.max_window_files(), std::sync::atomic::Ordering::Relaxed);
        self.wake_compaction();
        Ok(())
    }

    /// The tombstones of `family` in force now, and the tombstone id mark that goes with them
    /// (read under the manifest lock, where tombstones are installed, so the two agree).
    pub(crate) fn tombstones_for(&self, table: TableId, family: FamilyId) -> (Vec<Tombstone>, u64) {
        let cell = self.inner.manifest.lock();
        let sv = self.current();
        let list = sv
            .tombstones
            .iter()
            .filter(|t| t.table == table && t.family.is_none_or(|f| f == family))
            .cloned()
            .collect();
        (list, cell.state.next_tombstone_id)
    }

    /// Applies `edits`, which add the new files `outputs`, to the manifest. When the edit surely
    /// did not land, the outputs are deleted; when the manifest's state is unknown (failed
    /// `fsync`), they are kept for the next open to sort out and the database is poisoned.
    pub(crate) fn commit_files(&self, edits: Vec<Edit>, outputs: &[FileMeta]) -> Result<()> {
        let mut cell = self.inner.manifest.lock();
        let ManifestCell { manifest, state } = &mut *cell;
        if let Err(e) = manifest.apply(state, edits) {
            if !self.manifest_failed(manifest, &e) {
                for meta in outputs {
                    let _ = self.inner.opts.fs.remove_file(&sst_path(&self.inner.dir, meta.id));
                }
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// After a failed manifest edit: poisons the database when the manifest can no longer be
    /// trusted (returns true then).
    pub(crate) fn manifest_failed(&self, manifest: &crate::manifest::Manifest, e: &crate::manifest::Error) -> bool {
        if !manifest.is_poisoned() {
            return false;
        }
        self.poison(format!(
            "the manifest could not be synced ({e}); whether the last change reached the disk is unknown, so writes \
             are refused until the database is reopened (acknowledged writes are replayed from the WAL)"
        ));
        true
    }

    /// Opens readers for newly written files.
    pub(crate) fn open_files(&self, metas: &[FileMeta]) -> Result<Vec<Arc<SstFile>>> {
        metas
            .iter()
            .map(|meta| {
                let path = sst_path(&self.inner.dir, meta.id);
                let reader = SstReader::open_in(self.inner.opts.fs.clone(), &path, meta.id, self.inner.cache.clone())?;
                Ok(Arc::new(SstFile::new(meta.clone(), reader, path)))
            })
            .collect()
    }

    /// The compaction options in force for `family` (its own window width, if set).
    pub(crate) fn compaction_options(&self, family: FamilyId) -> crate::compaction::CompactionOptions {
        let mut opts = self.inner.opts.compaction.clone();
        if let Some(w) = self.current().windows.get(&family) {
            opts.window = std::time::Duration::from_nanos(u64::try_from(*w).unwrap_or(1));
        }
        opts
    }

    /// Options for new SSTables.
    pub(crate) fn sst_options(&self) -> SstWriterOptions {
        SstWriterOptions {
            rows_per_page: self.inner.opts.rows_per_page,
            zstd_level: self.inner.opts.zstd_level,
            ..SstWriterOptions::default()
        }
    }

    /// Writes the memtable's rows (tombstones applied) to one SSTable per time window.
    fn write_ssts(
        &self,
        family: FamilyId,
        table: &TableDef,
        mem: &crate::memtable::Memtable,
        tombstones: &[Tombstone],
        mark: u64,
    ) -> Result<Vec<FileMeta>> {
        let Some(fam) = table.family_by_id(family) else { return Ok(Vec::new()) };
        let keep = |series: &str, ts: i64, seq: u64| !tombstones.iter().any(|t| t.covers(series, ts, seq));
        let mut out = WindowedWriter::new(self, fam, mark);
        // One series at a time, so a flush holds one series' sorted copy, not the whole memtable's.
        for key in mem.series_keys() {
            let selector = SeriesSelector::Exact(key.to_string());
            for run in mem.runs(&selector, TimeRange::ALL, u64::MAX, None, &keep) {
                if let Err(e) = out.append(&run) {
                    out.abandon();
                    return Err(e);
                }
            }
        }
        out.finish()
    }

    /// Deletes WAL segments whose every record is in SSTables of every family it touched and
    /// whose producer stamps are in the manifest.
    pub(crate) fn remove_obsolete_wal(&self) {
        let producers_as_of = self.inner.manifest.lock().state.producers_as_of;
        let sv = self.current();
        let applied = self.inner.applied_seq.load(std::sync::atomic::Ordering::Acquire);
        let threshold = sv
            .families
            .values()
            .filter_map(|f| f.oldest_unflushed_seq())
            .map(|s| s.saturating_sub(1))
            .min()
            .unwrap_or(applied)
            .min(applied)
            .min(producers_as_of);
        if let Err(e) = self.inner.wal.remove_obsolete(threshold) {
            tracing::warn!(error = %e, "could not delete obsolete WAL segments; will retry after the next flush");
        }
    }
}
