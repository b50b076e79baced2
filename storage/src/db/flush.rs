//! The flush worker: writes frozen memtables to SSTables, oldest first, one family at a time.
//!
//! A flush writes one `sst/<id>.sst.tmp` per time window its rows touch (see
//! [`crate::compaction`]), fsyncs them, renames them into place and fsyncs the directory, then
//! records the `AddFile`s and the family's flushed sequence number in one manifest edit, then
//! swaps in a version without the frozen memtable. A crash at any point leaves either no trace
//! (the temporary file is deleted at the next open, the WAL still has the rows) or a complete,
//! recorded file. A failed flush is retried with back-off: the rows stay in memory and in the
//! WAL, and writers are held back by the memory budget meanwhile.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::version::SstFile;
use super::{Db, DbInner, ManifestCell};
use crate::compaction::output::WindowedWriter;
use crate::error::Result;
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

/// Runs the flush loop until `Job::Stop` or until the database is gone.
pub(crate) fn run(inner: Weak<DbInner>, jobs: crossbeam_channel::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let Job::Flush(family) = job else { return };
        let Some(inner) = inner.upgrade() else { return };
        let db = Db { inner };
        let mut backoff = Duration::from_millis(100);
        loop {
            match db.flush_oldest(family) {
                Ok(()) => {
                    db.inner.flush_error.lock().take();
                    break;
                }
                Err(e) => {
                    *db.inner.flush_error.lock() = Some(e.to_string());
                    tracing::error!(family, error = %e, retry_in = ?backoff, "flush failed; rows stay in memory and in the WAL");
                    db.inner.progress.1.notify_all();
                    if db.inner.closed.load(std::sync::atomic::Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(backoff);
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
        let sv = self.current();
        let Some(fv) = sv.families.get(&family) else { return Ok(()) };
        let Some(frozen) = fv.frozen.first().cloned() else { return Ok(()) };
        let Some(table) = sv.table_by_id(fv.table).cloned() else { return Ok(()) };
        let (tombstones, mark) = self.tombstones_for(table.id, family);
        let written = self.write_ssts(family, &table, &frozen.mem, &tombstones, mark)?;
        let mut edits: Vec<Edit> = written.iter().cloned().map(Edit::AddFile).collect();
        edits.push(Edit::FlushedSeq { family, seq: frozen.switch_seq });
        let discard = |e| {
            for meta in &written {
                let _ = std::fs::remove_file(sst_path(&self.inner.dir, meta.id));
            }
            Err(e)
        };
        // The producer table's changes ride in the same edit group (see crate::producer).
        let persisting = self.inner.producer_persist.lock();
        let (producers, delta) = match self.producer_edit() {
            Ok(x) => x,
            Err(e) => return discard(e),
        };
        edits.push(producers);
        if let Err(e) = self.commit_edits(edits) {
            self.restore_producer_delta(delta);
            return discard(e);
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

    /// Applies `edits` to the manifest.
    pub(crate) fn commit_edits(&self, edits: Vec<Edit>) -> Result<()> {
        let mut cell = self.inner.manifest.lock();
        let ManifestCell { manifest, state } = &mut *cell;
        manifest.apply(state, edits)?;
        Ok(())
    }

    /// Opens readers for newly written files.
    pub(crate) fn open_files(&self, metas: &[FileMeta]) -> Result<Vec<Arc<SstFile>>> {
        metas
            .iter()
            .map(|meta| {
                let path = sst_path(&self.inner.dir, meta.id);
                let reader = SstReader::open(&path, meta.id, self.inner.cache.clone())?;
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
