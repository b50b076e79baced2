//! The flush worker: writes frozen memtables to SSTables, oldest first, one family at a time.
//!
//! A flush writes one `sst/<id>.sst.tmp` per time window its rows touch (see
//! [`crate::compaction`]), fsyncs them, renames them into place and fsyncs the directory, then
//! records the `AddFile`s and the family's flushed sequence number in one manifest edit, then
//! swaps in a version without the frozen memtable. A crash at any point leaves either no trace
//! (the temporary file is deleted at the next open, the WAL still has the rows) or a complete,
//! recorded file. A failed flush is retried with back-off (100 ms doubling to 10 s, or at once
//! when [`Db::flush`] is called; the thread and its queue are in `flusher.rs`): the rows stay in memory and in the WAL, its output files are
//! deleted, and writers are held back by the memory budget meanwhile. The one exception is a
//! manifest whose `fsync` failed: whether the edit reached the disk is unknown, so the output
//! files stay (the next open deletes them if the manifest does not list them) and the database
//! refuses writes until reopened. A poisoned database does not flush in the background: its
//! memtables may hold writes that were never acknowledged; a resume (`resume.rs`) flushes them
//! all under the flush gate, which also keeps a background flush from racing it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::flusher::Job;
use super::versions::ManifestCell;
use super::{Db, DbInner};
use crate::clock::now_ns;
use crate::compaction::CompactionOptions;
use crate::error::Result;
use crate::manifest::{Edit, FileMeta, Tombstone};
use crate::schema::{FamilyId, TableDef};
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{OutputTarget, SstReader, SstWriterOptions, WindowedWriter, sst_path};
use crate::version::{FamilyVersion, SstFile};

impl Db {
    /// Flushes every memtable to SSTables and waits until done; afterwards the WAL holds nothing
    /// that is not also in an SSTable.
    ///
    /// While flushes fail (a full disk), the flush worker retries with back-off; this call makes it
    /// retry at once and returns the error of an attempt that failed after the call began
    /// ([`Error::DiskFull`](crate::Error::DiskFull) or [`Error::FlushFailing`](crate::Error::FlushFailing)).
    pub fn flush(&self) -> Result<()> {
        self.flush_families(|_| true)
    }

    /// Flushes the memtables of table `table` only and waits until done, as [`Db::flush`] does
    /// for every table. Other tables' memtables stay in memory (their rows stay in the WAL,
    /// which is trimmed only past what every family has flushed), so a caller allowed to manage
    /// one table cannot make every table write small files.
    ///
    /// Fails with [`InvalidInput::UnknownTable`](crate::InvalidInput::UnknownTable) when there is
    /// no such table.
    pub fn flush_table(&self, table: &str) -> Result<()> {
        let id = self.table_def(table)?.id;
        self.flush_families(|f| f.table == id)
    }

    /// Freezes the active memtables of the families `pick` chooses and waits until the frozen
    /// memtables of those families, up to now, are flushed.
    fn flush_families(&self, pick: impl Fn(&FamilyVersion) -> bool) -> Result<()> {
        self.check_writable()?;
        let failures_before = self.inner.flusher.failures();
        self.inner.flusher.nudge();
        let target = {
            let w = self.inner.writes.lock();
            let sv = self.current();
            let ids: Vec<FamilyId> = sv.families.iter().filter(|(_, f)| pick(f)).map(|(id, _)| *id).collect();
            self.freeze(&ids, w.last_seq());
            w.last_seq()
        };
        // Wait for the memtables frozen up to now; later ones (writes go on) are not waited for.
        let (lock, cond) = &self.inner.progress;
        let mut guard = lock.lock();
        loop {
            self.check_writable()?;
            if self.inner.flusher.failures() > failures_before
                && let Some(failure) = self.inner.flusher.last_failure()
            {
                return Err(failure.to_error());
            }
            let pending = self
                .current()
                .families
                .values()
                .filter(|f| pick(f))
                .any(|f| f.frozen.iter().any(|m| m.switch_seq <= target));
            if !pending {
                drop(guard);
                self.remove_obsolete_wal();
                return Ok(());
            }
            cond.wait_for(&mut guard, Duration::from_millis(50));
        }
    }

    /// Flushes the oldest frozen memtable of `family` (the flush worker's job).
    pub(super) fn flush_oldest(&self, family: FamilyId) -> Result<()> {
        let _gate = self.inner.flush_gate.lock();
        self.check_writable()?;
        self.flush_frozen(family, true)
    }

    /// Flushes the oldest frozen memtable of `family`; the caller holds the flush gate. With
    /// `producers`, the producer table's changes ride in the same manifest edit group (after a
    /// WAL sync that makes the marks' records durable); a resume records them once every family
    /// is flushed instead, since its WAL cannot be synced (see `resume.rs`).
    pub(super) fn flush_frozen(&self, family: FamilyId, producers: bool) -> Result<()> {
        let sv = self.current();
        let Some(fv) = sv.families.get(&family) else { return Ok(()) };
        let Some(frozen) = fv.frozen.first().cloned() else { return Ok(()) };
        let Some(table) = sv.table_by_id(fv.table).cloned() else { return Ok(()) };
        let (tombstones, mark) = self.inner.versions.tombstones_for(table.id, family);
        let mut written = self.write_ssts(family, &table, &frozen.mem, &tombstones, mark)?;
        crate::compaction::mark_late_runs(&sv, family, &mut written, &self.compaction_options(family), now_ns());
        let mut edits: Vec<Edit> = written.iter().cloned().map(Edit::AddFile).collect();
        edits.push(Edit::FlushedSeq { family, seq: frozen.switch_seq });
        if producers {
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
        } else {
            self.commit_files(edits, &written)?;
        }
        let files = self.open_files(&written)?;
        let bytes: u64 = written.iter().map(|m| m.size).sum();
        self.inner.counters.flush_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.inner.counters.flush_files.fetch_add(written.len() as u64, Ordering::Relaxed);
        self.install(|sv| {
            if let Some(f) = sv.families.get_mut(&family) {
                f.frozen.retain(|x| !Arc::ptr_eq(&x.mem, &frozen.mem));
                f.files.extend(files);
            }
        });
        self.inner.counters.flushes.fetch_add(1, Ordering::Relaxed);
        self.remove_obsolete_wal();
        self.update_window_files();
        self.inner.compactor.wake();
        Ok(())
    }

    /// Flushes every frozen memtable whose switch seq is at most `seq`, oldest first per family,
    /// leaving later ones alone, so that afterwards the SSTables hold every write up to `seq` and
    /// none above it (when the caller froze every family at `seq` and held the flush gate since).
    /// The caller holds the flush gate; `producers` as for [`Db::flush_frozen`].
    pub(super) fn flush_frozen_up_to(&self, seq: u64, producers: bool) -> Result<()> {
        let ids: Vec<FamilyId> = self.current().families.keys().copied().collect();
        for id in ids {
            loop {
                let sv = self.current();
                let Some(oldest) = sv.families.get(&id).and_then(|f| f.frozen.first()) else { break };
                if oldest.switch_seq > seq {
                    break;
                }
                let before = Arc::clone(&oldest.mem);
                drop(sv);
                self.flush_frozen(id, producers)?;
                let still = self.current().families.get(&id).and_then(|f| f.frozen.first()).map(|m| Arc::clone(&m.mem));
                if still.is_some_and(|m| Arc::ptr_eq(&m, &before)) {
                    // Nothing was installed (the family's table is gone): stop rather than spin.
                    break;
                }
            }
        }
        Ok(())
    }

    /// Applies `edits`, which add the new files `outputs`, to the manifest. When the edit surely
    /// did not land, the outputs are deleted; when the manifest's state is unknown (failed
    /// `fsync`), they are kept for the next open to sort out and the database is poisoned.
    pub(super) fn commit_files(&self, edits: Vec<Edit>, outputs: &[FileMeta]) -> Result<()> {
        let mut cell = self.inner.versions.lock_manifest();
        if let Err(e) = cell.apply(edits) {
            if !self.manifest_failed(&cell, &e) {
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
    pub(super) fn manifest_failed(&self, cell: &ManifestCell, e: &crate::manifest::Error) -> bool {
        if !cell.is_poisoned() {
            return false;
        }
        let full = matches!(e, crate::manifest::Error::Io { source, .. } if crate::error::is_disk_full(source));
        let kind =
            if full { super::health::ReadOnlyReason::DiskFull } else { super::health::ReadOnlyReason::ManifestFailed };
        self.poison(kind, false, format!(
            "the manifest could not be synced ({e}); whether the last change reached the disk is unknown, so writes \
             are refused until the database is reopened (acknowledged writes are replayed from the WAL)"
        ));
        true
    }

    /// Opens readers for newly written files.
    pub(super) fn open_files(&self, metas: &[FileMeta]) -> Result<Vec<Arc<SstFile>>> {
        metas
            .iter()
            .map(|meta| {
                let path = sst_path(&self.inner.dir, meta.id);
                let reader = SstReader::open_in(self.inner.opts.fs.clone(), &path, meta.id, self.inner.cache.clone())?;
                Ok(Arc::new(SstFile::new(meta.clone(), reader, path)))
            })
            .collect()
    }

    /// The compaction options in force for `family` (its own window width and `closed_after`,
    /// if set).
    pub(super) fn compaction_options(&self, family: FamilyId) -> CompactionOptions {
        let sv = self.current();
        self.inner.opts.compaction.for_family(&sv.windows, family).with_closed_after(&sv.closed_after, family)
    }

    /// Where a flush or merge of `family` writes: this database's `sst/`, the family's window
    /// width, new file ids from the manifest.
    pub(super) fn output_target<'a>(&'a self, family: FamilyId, next_id: &'a dyn Fn() -> u64) -> OutputTarget<'a> {
        let copts = self.compaction_options(family);
        OutputTarget {
            fs: self.inner.opts.fs.clone(),
            dir: &self.inner.dir,
            sst: self.sst_options(),
            window_ns: copts.window_ns(),
            max_file_bytes: copts.max_file_bytes,
            next_id,
        }
    }

    /// Options for new SSTables.
    fn sst_options(&self) -> SstWriterOptions {
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
        let next_id = || self.inner.versions.allocate_file_id();
        let mut out = WindowedWriter::new(self.output_target(family, &next_id), fam, &mem.null_markers(), mark);
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
    pub(super) fn remove_obsolete_wal(&self) {
        let producers_as_of = self.inner.versions.lock_manifest().state().producers_as_of;
        let sv = self.current();
        let applied = self.inner.writes.applied_seq();
        let threshold = sv
            .families
            .values()
            .filter_map(|f| f.oldest_unflushed_seq())
            .map(|s| s.saturating_sub(1))
            .min()
            .unwrap_or(applied)
            .min(applied)
            .min(producers_as_of);
        // The active segment too, when the flush covered all of it: after `admin flush` no
        // flushed record stays on disk. Deleting it deletes the record of the highest seq handed
        // out so far, so the manifest records that seq first: a reopen must never hand it out
        // again (a record that changed no memtable, such as a write of absent cells only, is
        // not in `flushed_seq` either).
        let recorded = {
            let mut cell = self.inner.versions.lock_manifest();
            if cell.state().last_seq < threshold && !cell.is_poisoned() {
                cell.apply(vec![crate::manifest::Edit::LastSeq(threshold)])
            } else {
                Ok(())
            }
        };
        match recorded {
            Ok(()) => {
                if let Err(e) = self.inner.wal.retire_active(threshold) {
                    tracing::warn!(error = %e, "could not close the flushed WAL segment; it is deleted later");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not record the last seq; the flushed WAL segment is kept"),
        }
        if let Err(e) = self.inner.wal.remove_obsolete(threshold) {
            tracing::warn!(error = %e, "could not delete obsolete WAL segments; will retry after the next flush");
        }
    }
}

/// Runs the flush loop until `Job::Stop` or until the database is gone.
pub(super) fn run_worker(inner: Weak<DbInner>, jobs: Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let Job::Flush(family) = job else { return };
        let Some(inner) = inner.upgrade() else { return };
        let db = Db::worker(inner);
        let flusher = &db.inner.flusher;
        let mut backoff = Duration::from_millis(100);
        loop {
            // A nudge sent before this attempt began is answered by it.
            flusher.clear_nudge();
            match db.flush_oldest(family) {
                Ok(()) => {
                    flusher.succeeded();
                    break;
                }
                Err(e) => {
                    flusher.failed(&e);
                    db.notify_progress();
                    if db.is_closed() {
                        return;
                    }
                    if db.check_writable().is_err() {
                        // Poisoned: nothing may be flushed until a resume, which flushes every
                        // frozen memtable itself (see `resume.rs`); drop the job.
                        break;
                    }
                    tracing::error!(family, error = %e, retry_in = ?backoff, "flush failed; rows stay in memory and in the WAL");
                    flusher.wait_nudge(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        db.notify_progress();
    }
}
