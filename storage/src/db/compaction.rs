//! Running compaction: one background step, manual [`Db::compact`], merging files through the
//! executor and installing its edit, tombstone purge.
//!
//! What to do is decided by [`crate::compaction`] (policy and plan, over the current version);
//! how to merge is its executor, a function that writes new files and returns the edit. Here the
//! edit is applied to the manifest and the new version installed, under the compaction lock.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::compactor::Signal;
use super::counters::Counters;
use super::{Db, DbInner};
use crate::clock::now_ns;
use crate::compaction::{self, CompactionReport, MergeInput, MergeOutcome, Merged, Task, policy};
use crate::error::{InvalidInput, Result};
use crate::manifest::{Edit, FileId, FileMeta};
use crate::schema::FamilyId;
use crate::selector::TimeRange;
use crate::version::SstFile;

impl Db {
    /// Runs one task of the first family that has one; false when every family is in shape.
    pub(super) fn compact_step(&self) -> Result<bool> {
        let sv = self.current();
        let mut ids: Vec<FamilyId> = sv.families.keys().copied().collect();
        ids.sort_unstable();
        for family in ids {
            let Some(task) = self.pick_task(family) else { continue };
            let _guard = self.inner.compactor.exclusive();
            self.run_task(family, &task)?;
            self.purge_tombstones()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Runs, on the calling thread, the tasks the background worker would run now, until the
    /// policy finds every family in shape; returns how many tasks ran.
    ///
    /// Unlike [`Db::compact`], which rewrites every selected window to as few files as possible,
    /// this does only what the policy asks for. It makes the policy's outcome deterministic where
    /// the background thread's timing would not be: in tests, benchmarks, and with
    /// `background = false`.
    pub fn compact_pending(&self) -> Result<usize> {
        self.check_writable()?;
        // Each task removes files or merges several into fewer, so the loop ends long before
        // this bound; the bound only guards against a policy bug spinning forever.
        let mut tasks = 0;
        while tasks < 100_000 && self.compact_step()? {
            tasks += 1;
        }
        Ok(tasks)
    }

    fn pick_task(&self, family: FamilyId) -> Option<Task> {
        let (files, ctx) = self.family_files(family)?;
        policy::pick(&files, ctx, &self.compaction_options(family))
    }

    /// The manifest entries of a family's files compaction may touch, and the policy context.
    fn family_files(&self, family: FamilyId) -> Option<(Vec<FileMeta>, policy::Context)> {
        compaction::family_files(&self.current(), family, &self.compaction_options(family), now_ns())
    }

    fn run_task(&self, family: FamilyId, task: &Task) -> Result<MergeOutcome> {
        match task {
            Task::DropExpired { files } => {
                let sv = self.current();
                let Some(fv) = sv.families.get(&family) else { return Ok(MergeOutcome::default()) };
                let inputs: Vec<_> = fv.files.iter().filter(|f| files.contains(&f.meta.id)).cloned().collect();
                tracing::info!(family, files = inputs.len(), "dropping SSTables whose rows are all past the TTL");
                // Nothing is read or written: the files are deleted whole, so they count as
                // dropped, not as merge input.
                self.install_swap(Merged::dropping(family, inputs), |c, outcome| {
                    c.expired_files_dropped.fetch_add(outcome.inputs as u64, Ordering::Relaxed);
                    c.expired_bytes_dropped.fetch_add(outcome.bytes_read, Ordering::Relaxed);
                })
            }
            Task::Merge { files, reason, window } => {
                tracing::debug!(family, window, reason, files = files.len(), "compacting");
                self.merge_files(family, files, task.output_level())
            }
        }
    }

    /// Compacts now: every window of the selected families that overlaps `range` is merged to as
    /// few files as its size allows, expired files are dropped, tombstones whose data is gone are
    /// removed. `family = None` compacts every family of the table.
    ///
    /// A compaction that fails leaves its inputs in place and deletes its outputs; on a full disk
    /// the error is [`Error::DiskFull`](crate::Error::DiskFull) and a later call can succeed.
    pub fn compact(&self, table: &str, family: Option<&str>, range: Option<TimeRange>) -> Result<CompactionReport> {
        self.compact_now(table, family, range).map_err(|e| match e.disk_full_path() {
            Some(path) if !matches!(e, crate::Error::DiskFull { .. }) => {
                crate::Error::DiskFull { during: "compaction", path: path.to_path_buf(), resumes: true }
            }
            _ => e,
        })
    }

    fn compact_now(&self, table: &str, family: Option<&str>, range: Option<TimeRange>) -> Result<CompactionReport> {
        self.check_writable()?;
        let def = self.table_def(table)?;
        let families: Vec<FamilyId> = match family {
            None => def.families.iter().map(|f| f.id).collect(),
            Some(name) => vec![
                def.family(name)
                    .ok_or_else(|| InvalidInput::UnknownFamily {
                        table: table.into(),
                        family: name.into(),
                        known: crate::catalog::known_families(&def),
                    })?
                    .id,
            ],
        };
        let range = range.unwrap_or(TimeRange::ALL);
        let _guard = self.inner.compactor.exclusive();
        let mut report = CompactionReport { families: families.len(), ..CompactionReport::default() };
        for family in families {
            let Some((files, ctx)) = self.family_files(family) else { continue };
            let copts = self.compaction_options(family);
            if let Some(Task::DropExpired { files }) = policy::pick(&files, ctx, &copts) {
                report.expired_files += files.len();
                self.run_task(family, &Task::DropExpired { files })?;
            }
            let Some((files, _)) = self.family_files(family) else { continue };
            let files: Vec<FileMeta> = files.into_iter().filter(|f| range.overlaps(f.min_ts, f.max_ts)).collect();
            for group in policy::windows(&files, &copts).values() {
                let needs_rewrite =
                    group.len() > 1 || group.iter().any(|f| compaction::has_unapplied_tombstones(&self.current(), f));
                if !needs_rewrite {
                    continue;
                }
                for chunk in group.chunks(copts.max_merge.max(2)) {
                    let ids: Vec<_> = chunk.iter().map(|f| f.id).collect();
                    report.add(&self.merge_files(family, &ids, 0)?);
                }
            }
        }
        report.tombstones_dropped += self.purge_tombstones()?;
        Ok(report)
    }

    /// Merges the files `ids` of `family` (which must be contiguous in sequence order within
    /// their window) into files of manifest level `level` (see [`policy::LATE_LEVEL`]) and
    /// installs the result. Files no longer in the family are skipped.
    fn merge_files(&self, family: FamilyId, ids: &[FileId], level: u32) -> Result<MergeOutcome> {
        let sv = self.current();
        let Some(fv) = sv.families.get(&family) else { return Ok(MergeOutcome::default()) };
        let Some(table) = sv.table_by_id(fv.table).cloned() else { return Ok(MergeOutcome::default()) };
        let Some(fam) = table.family_by_id(family).cloned() else { return Ok(MergeOutcome::default()) };
        let inputs: Vec<Arc<SstFile>> = fv.files.iter().filter(|f| ids.contains(&f.meta.id)).cloned().collect();
        if inputs.is_empty() {
            return Ok(MergeOutcome::default());
        }
        let _running = self.inner.compactor.enter_merge();
        let (tombstones, mark) = self.inner.versions.tombstones_for(table.id, family);
        let ttl_horizon = table.ttl_of(&fam).map(|ttl| now_ns().saturating_sub(ttl));
        let next_id = || self.inner.versions.allocate_file_id();
        let mut merged = compaction::merge(MergeInput {
            family: &fam,
            inputs,
            tombstones: &tombstones,
            tombstone_mark: mark,
            ttl_horizon,
            rate_limit_bytes_per_sec: self.compaction_options(family).rate_limit_bytes_per_sec,
            output: self.output_target(family, &next_id),
        })?;
        for out in &mut merged.outputs {
            out.level = level;
        }
        self.install_merge(merged)
    }

    /// Installs a merge (see [`Db::install_swap`]) and counts it as one compaction that read its
    /// inputs and wrote its outputs.
    fn install_merge(&self, merged: Merged) -> Result<MergeOutcome> {
        self.install_swap(merged, |c, outcome| {
            c.compactions.fetch_add(1, Ordering::Relaxed);
            c.compaction_bytes_read.fetch_add(outcome.bytes_read, Ordering::Relaxed);
            c.compaction_bytes_written.fetch_add(outcome.bytes_written, Ordering::Relaxed);
        })
    }

    /// Applies the edit of a merge or a drop to the manifest and swaps its inputs for its outputs
    /// in the current version. `count` bumps the counters that fit (a drop reads nothing), before
    /// waiters are told of the progress.
    fn install_swap(&self, merged: Merged, count: impl FnOnce(&Counters, &MergeOutcome)) -> Result<MergeOutcome> {
        let family = merged.family;
        self.commit_files(merged.edits(), &merged.outputs)?;
        let files = self.open_files(&merged.outputs)?;
        let removed: Vec<FileId> = merged.inputs.iter().map(|f| f.meta.id).collect();
        self.install(|sv| {
            if let Some(f) = sv.families.get_mut(&family) {
                f.files.retain(|x| !removed.contains(&x.meta.id));
                f.files.extend(files);
            }
        });
        for f in &merged.inputs {
            f.mark_obsolete();
        }
        let outcome = merged.outcome();
        self.update_window_files();
        count(&self.inner.counters, &outcome);
        self.notify_progress();
        Ok(outcome)
    }

    /// Drops tombstones that no longer cover any data: every file of their families was written
    /// with them applied, and the memtables hold nothing older. Returns how many were dropped.
    fn purge_tombstones(&self) -> Result<usize> {
        let dead = compaction::dead_tombstones(&self.current());
        if dead.is_empty() {
            return Ok(0);
        }
        let mut cell = self.inner.versions.lock_manifest();
        cell.apply(dead.iter().map(|id| Edit::RemoveTombstone(*id)).collect())?;
        self.install(|sv| {
            sv.tombstones = Arc::new(sv.tombstones.iter().filter(|t| !dead.contains(&t.id)).cloned().collect());
        });
        tracing::debug!(count = dead.len(), "dropped tombstones that cover no data any more");
        Ok(dead.len())
    }

    /// Windows and bytes still to compact, per family (for stats).
    pub(super) fn compaction_backlog(&self, family: FamilyId) -> (usize, u64) {
        compaction::family_backlog(&self.current(), family, &self.compaction_options(family), now_ns())
    }

    /// Recomputes the most files any window of any family holds (drives write throttling).
    pub(super) fn update_window_files(&self) {
        let files = compaction::max_window_files(&self.current(), &self.inner.opts.compaction);
        self.inner.compactor.set_window_files(files);
    }
}

/// The background loop: picks and runs tasks until told to stop or the database is gone.
pub(super) fn run_worker(inner: Weak<DbInner>, signals: Receiver<Signal>, interval: Duration) {
    loop {
        match signals.recv_timeout(interval) {
            Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Signal::Wake) | Err(RecvTimeoutError::Timeout) => {}
        }
        let Some(inner) = inner.upgrade() else { return };
        let db = Db::worker(inner);
        // Work until in shape, re-checking the stop flag between tasks.
        for _ in 0..1000 {
            if db.is_closed() || !matches!(signals.try_recv(), Err(_) | Ok(Signal::Wake)) {
                return;
            }
            match db.compact_step() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(error = %e, "background compaction failed; the store is unchanged, retrying later");
                    std::thread::sleep(interval);
                    break;
                }
            }
        }
    }
}
