//! Running compaction: the background worker, manual compaction, tombstone purge, write
//! throttling and statistics.

use std::collections::BTreeSet;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::executor::MergeOutcome;
use super::policy::{self, Context, Task};
use crate::db::{Db, DbInner};
use crate::error::{InvalidInput, Result};
use crate::manifest::{Edit, FileMeta};
use crate::read::snapshot::now_ns;
use crate::schema::FamilyId;
use crate::selector::TimeRange;

/// Messages to the compaction worker.
#[derive(Debug)]
pub(crate) enum Signal {
    /// Something changed (a flush finished); look for work.
    Wake,
    /// Exit.
    Stop,
}

/// What a manual compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactionReport {
    /// Families looked at.
    pub families: usize,
    /// Merges run.
    pub merges: usize,
    /// Files deleted because every row in them was past the TTL.
    pub expired_files: usize,
    /// Files read by merges.
    pub files_in: usize,
    /// Files written by merges.
    pub files_out: usize,
    /// Bytes read by merges.
    pub bytes_read: u64,
    /// Bytes written by merges.
    pub bytes_written: u64,
    /// Tombstones dropped because no data they cover remains.
    pub tombstones_dropped: usize,
}

impl CompactionReport {
    fn add(&mut self, m: &MergeOutcome) {
        self.merges += 1;
        self.files_in += m.inputs;
        self.files_out += m.outputs;
        self.bytes_read += m.bytes_read;
        self.bytes_written += m.bytes_written;
    }
}

/// The background loop: picks and runs tasks until told to stop or the database is gone.
pub(crate) fn run(inner: Weak<DbInner>, signals: crossbeam_channel::Receiver<Signal>, interval: Duration) {
    loop {
        match signals.recv_timeout(interval) {
            Ok(Signal::Stop) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            Ok(Signal::Wake) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        }
        let Some(inner) = inner.upgrade() else { return };
        let db = Db { inner };
        // Work until in shape, re-checking the stop flag between tasks.
        for _ in 0..1000 {
            if db.inner.closed.load(Ordering::Acquire) || !matches!(signals.try_recv(), Err(_) | Ok(Signal::Wake)) {
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

impl Db {
    /// Wakes the background compaction worker.
    pub(crate) fn wake_compaction(&self) {
        if let Some(tx) = &self.inner.compaction_tx {
            let _ = tx.try_send(Signal::Wake);
        }
    }

    /// Runs one task of the first family that has one; false when every family is in shape.
    pub(crate) fn compact_step(&self) -> Result<bool> {
        let sv = self.current();
        let mut ids: Vec<FamilyId> = sv.families.keys().copied().collect();
        ids.sort_unstable();
        for family in ids {
            let Some(task) = self.pick_task(family) else { continue };
            let _guard = self.inner.compaction_lock.lock();
            self.run_task(family, &task)?;
            self.purge_tombstones()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn pick_task(&self, family: FamilyId) -> Option<Task> {
        let (files, ctx) = self.family_files(family)?;
        policy::pick(&files, ctx, &self.compaction_options(family))
    }

    /// The manifest entries of a family's files and the policy context.
    fn family_files(&self, family: FamilyId) -> Option<(Vec<FileMeta>, Context)> {
        let sv = self.current();
        let fv = sv.families.get(&family)?;
        let table = sv.table_by_id(fv.table)?;
        let fam = table.family_by_id(family)?;
        // Bad files stay out of compaction (and so do the other files of their windows, which
        // could hold the same rows): rewriting them would spread or hide the damage.
        let w = self.compaction_options(family).window_ns();
        let bad_windows: BTreeSet<i64> = fv
            .files
            .iter()
            .filter(|f| f.bad_reason().is_some())
            .map(|f| super::window_start(f.meta.max_ts, w))
            .collect();
        let files = fv
            .files
            .iter()
            .filter(|f| !bad_windows.contains(&super::window_start(f.meta.max_ts, w)))
            .map(|f| f.meta.clone())
            .collect();
        Some((files, Context { now_ns: now_ns(), ttl_ns: table.ttl_of(fam) }))
    }

    fn run_task(&self, family: FamilyId, task: &Task) -> Result<MergeOutcome> {
        match task {
            Task::DropExpired { files } => {
                let sv = self.current();
                let Some(fv) = sv.families.get(&family) else { return Ok(MergeOutcome::default()) };
                let inputs: Vec<_> = fv.files.iter().filter(|f| files.contains(&f.meta.id)).cloned().collect();
                tracing::info!(family, files = inputs.len(), "dropping SSTables whose rows are all past the TTL");
                self.install_merge(family, &inputs, Vec::new())
            }
            Task::Merge { files, reason, window } => {
                tracing::debug!(family, window, reason, files = files.len(), "compacting");
                self.merge_files(family, files)
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
        let _guard = self.inner.compaction_lock.lock();
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
                let needs_rewrite = group.len() > 1 || group.iter().any(|f| self.has_unapplied_tombstones(f));
                if !needs_rewrite {
                    continue;
                }
                for chunk in group.chunks(copts.max_merge.max(2)) {
                    let ids: Vec<_> = chunk.iter().map(|f| f.id).collect();
                    report.add(&self.merge_files(family, &ids)?);
                }
            }
        }
        report.tombstones_dropped += self.purge_tombstones()?;
        Ok(report)
    }

    fn has_unapplied_tombstones(&self, file: &FileMeta) -> bool {
        let sv = self.current();
        let Some(table) = sv.families.get(&file.family).map(|f| f.table) else { return false };
        sv.tombstones.iter().any(|t| {
            t.table == table
                && t.family.is_none_or(|f| f == file.family)
                && t.id >= file.tombstone_mark
                && t.range.overlaps(file.min_ts, file.max_ts)
                && file.min_seq < t.seq
        })
    }

    /// Drops tombstones that no longer cover any data: every file of their families was written
    /// with them applied, and the memtables hold nothing older. Returns how many were dropped.
    pub(crate) fn purge_tombstones(&self) -> Result<usize> {
        let sv = self.current();
        let mut dead: BTreeSet<u64> = BTreeSet::new();
        for t in sv.tombstones.iter() {
            let Some(table) = sv.table_by_id(t.table) else { continue };
            let still_needed = table.families.iter().filter(|f| t.family.is_none_or(|id| id == f.id)).any(|f| {
                let Some(fv) = sv.families.get(&f.id) else { return false };
                let old_file = fv.files.iter().any(|file| {
                    file.meta.tombstone_mark <= t.id
                        && file.meta.min_seq < t.seq
                        && t.range.overlaps(file.meta.min_ts, file.meta.max_ts)
                });
                let old_memory = fv.oldest_unflushed_seq().is_some_and(|s| s < t.seq);
                old_file || old_memory
            });
            if !still_needed {
                dead.insert(t.id);
            }
        }
        if dead.is_empty() {
            return Ok(0);
        }
        let mut cell = self.inner.manifest.lock();
        let crate::db::ManifestCell { manifest, state } = &mut *cell;
        manifest.apply(state, dead.iter().map(|id| Edit::RemoveTombstone(*id)).collect())?;
        self.install(|sv| {
            sv.tombstones =
                std::sync::Arc::new(sv.tombstones.iter().filter(|t| !dead.contains(&t.id)).cloned().collect());
        });
        tracing::debug!(count = dead.len(), "dropped tombstones that cover no data any more");
        Ok(dead.len())
    }

    /// Windows and bytes still to compact, per family (for stats).
    pub(crate) fn compaction_state(&self, family: FamilyId) -> (usize, u64) {
        let Some((files, ctx)) = self.family_files(family) else { return (0, 0) };
        let opts = &self.compaction_options(family);
        (policy::windows(&files, opts).len(), policy::pending_bytes(&files, ctx, opts))
    }

    /// The most files any window of any family holds (drives write throttling).
    pub(crate) fn max_window_files(&self) -> usize {
        let sv = self.current();
        sv.families
            .iter()
            .map(|(id, fv)| {
                let files: Vec<FileMeta> = fv.files.iter().map(|f| f.meta.clone()).collect();
                policy::windows(&files, &self.compaction_options(*id)).values().map(Vec::len).max().unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }
}
