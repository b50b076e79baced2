//! The flush worker: writes frozen memtables to SSTables, oldest first, one family at a time.
//!
//! A flush writes `sst/<id>.sst.tmp`, fsyncs it, renames it into place and fsyncs the directory,
//! then records `AddFile` and the family's flushed sequence number in one manifest edit, then
//! swaps in a version without the frozen memtable. A crash at any point leaves either no trace
//! (the temporary file is deleted at the next open, the WAL still has the rows) or a complete,
//! recorded file. A failed flush is retried with back-off: the rows stay in memory and in the
//! WAL, and writers are held back by the memory budget meanwhile.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::version::SstFile;
use super::{Db, DbInner, ManifestCell};
use crate::error::{Error, Result};
use crate::manifest::{Edit, FileMeta, Tombstone};
use crate::schema::{FamilyId, TableDef};
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{ColumnSchema, SstReader, SstWriter, SstWriterOptions};

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
                Ok(()) => break,
                Err(e) => {
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
        let tombstones: Vec<Tombstone> = sv
            .tombstones
            .iter()
            .filter(|t| t.table == table.id && t.family.is_none_or(|f| f == family))
            .cloned()
            .collect();
        let id = { self.inner.manifest.lock().state.allocate_file_id() };
        let path = sst_path(&self.inner.dir, id);
        let written = self.write_sst(&path, id, family, &table, &frozen.mem, &tombstones)?;
        let mut edits = Vec::new();
        if let Some(meta) = &written {
            edits.push(Edit::AddFile(meta.clone()));
        }
        edits.push(Edit::FlushedSeq { family, seq: frozen.switch_seq });
        {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            if let Err(e) = manifest.apply(state, edits) {
                let _ = std::fs::remove_file(&path);
                return Err(e.into());
            }
        }
        let file = match written {
            Some(meta) => {
                let reader = SstReader::open(&path, meta.id, self.inner.cache.clone())?;
                self.inner.counters.flush_bytes.fetch_add(meta.size, std::sync::atomic::Ordering::Relaxed);
                Some(Arc::new(SstFile::new(meta, reader, path)))
            }
            None => None,
        };
        self.install(|sv| {
            if let Some(f) = sv.families.get_mut(&family) {
                f.frozen.retain(|x| !Arc::ptr_eq(&x.mem, &frozen.mem));
                f.files.extend(file);
            }
        });
        self.inner.counters.flushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.remove_obsolete_wal();
        Ok(())
    }

    /// Writes the memtable's rows (tombstones applied) to `path`; `None` when nothing is left.
    fn write_sst(
        &self,
        path: &Path,
        id: u64,
        family: FamilyId,
        table: &TableDef,
        mem: &crate::memtable::Memtable,
        tombstones: &[Tombstone],
    ) -> Result<Option<FileMeta>> {
        let Some(fam) = table.family_by_id(family) else { return Ok(None) };
        let columns: Vec<ColumnSchema> =
            fam.columns.iter().map(|c| ColumnSchema { id: c.id, name: c.name.clone(), ty: c.ty }).collect();
        let keep = |series: &str, ts: i64, seq: u64| !tombstones.iter().any(|t| t.covers(series, ts, seq));
        let runs = mem.runs(&SeriesSelector::All, TimeRange::ALL, u64::MAX, None, &keep);
        if runs.is_empty() {
            return Ok(None);
        }
        let tmp = path.with_extension("sst.tmp");
        let opts = SstWriterOptions {
            rows_per_page: self.inner.opts.rows_per_page,
            zstd_level: self.inner.opts.zstd_level,
            ..SstWriterOptions::default()
        };
        let mut writer = SstWriter::create(&tmp, family, columns, opts)?;
        for run in &runs {
            writer.append(run)?;
        }
        let info = writer.finish()?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        crate::fs::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        Ok(Some(FileMeta {
            id,
            family,
            size: info.size,
            rows: info.rows,
            series: info.series,
            min_ts: info.min_ts,
            max_ts: info.max_ts,
            min_seq: info.min_seq,
            max_seq: info.max_seq,
            level: 0,
        }))
    }

    /// Deletes WAL segments whose every record is in SSTables of every family it touched.
    pub(crate) fn remove_obsolete_wal(&self) {
        let sv = self.current();
        let applied = self.inner.applied_seq.load(std::sync::atomic::Ordering::Acquire);
        let threshold = sv
            .families
            .values()
            .filter_map(|f| f.oldest_unflushed_seq())
            .map(|s| s.saturating_sub(1))
            .min()
            .unwrap_or(applied)
            .min(applied);
        if let Err(e) = self.inner.wal.remove_obsolete(threshold) {
            tracing::warn!(error = %e, "could not delete obsolete WAL segments; will retry after the next flush");
        }
    }
}
