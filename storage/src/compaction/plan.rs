//! What compaction should do, read off an immutable version: the files the policy may look at,
//! the tombstones no file needs any more, how full the fullest window is. No I/O and no locks;
//! `db/` calls these with its current version and acts on the answers.

use std::collections::{BTreeMap, BTreeSet};

use super::options::CompactionOptions;
use super::policy::{self, Context};
use crate::manifest::FileMeta;
use crate::schema::FamilyId;
use crate::sst::window_start;
use crate::version::SuperVersion;

impl CompactionOptions {
    /// These options with the window width `windows` sets for `family`, if it sets one.
    pub(crate) fn for_family(&self, windows: &BTreeMap<FamilyId, i64>, family: FamilyId) -> CompactionOptions {
        let mut opts = self.clone();
        if let Some(w) = windows.get(&family) {
            opts.window = std::time::Duration::from_nanos(u64::try_from(*w).unwrap_or(1));
        }
        opts
    }

    /// These options with the `closed_after` time `closed_after` sets for `family`, if it sets one.
    pub(crate) fn with_closed_after(mut self, closed_after: &BTreeMap<FamilyId, i64>, family: FamilyId) -> Self {
        if let Some(t) = closed_after.get(&family) {
            self.closed_after = std::time::Duration::from_nanos(u64::try_from(*t).unwrap_or(0));
        }
        self
    }
}

/// The manifest entries of the files of `family` compaction may touch, and the policy context.
///
/// Bad files stay out of compaction (and so do the other files of their windows, which could
/// hold the same rows): rewriting them would spread or hide the damage.
pub(crate) fn family_files(
    sv: &SuperVersion,
    family: FamilyId,
    opts: &CompactionOptions,
    now_ns: i64,
) -> Option<(Vec<FileMeta>, Context)> {
    let fv = sv.families.get(&family)?;
    let table = sv.table_by_id(fv.table)?;
    let fam = table.family_by_id(family)?;
    let w = opts.window_ns();
    let bad_windows: BTreeSet<i64> =
        fv.files.iter().filter(|f| f.bad_reason().is_some()).map(|f| window_start(f.meta.max_ts, w)).collect();
    let files = fv
        .files
        .iter()
        .filter(|f| !bad_windows.contains(&window_start(f.meta.max_ts, w)))
        .map(|f| f.meta.clone())
        .collect();
    Some((files, Context { now_ns, ttl_ns: table.ttl_of(fam) }))
}

/// Marks the files a flush of `family` wrote (`written`, not yet installed in `sv`) that land
/// in a window that is closed and already holds files as late runs ([`policy::LATE_LEVEL`]), so
/// compaction keeps them beside the window's main file instead of rewriting it (see
/// [`policy`]). Closedness counts the flush's own files: late rows flushed together with the
/// first rows of a newer window are late.
pub(crate) fn mark_late_runs(
    sv: &SuperVersion,
    family: FamilyId,
    written: &mut [FileMeta],
    opts: &CompactionOptions,
    now_ns: i64,
) {
    let Some(fv) = sv.families.get(&family) else { return };
    let w = opts.window_ns();
    let old: BTreeSet<i64> = fv.files.iter().map(|f| window_start(f.meta.max_ts, w)).collect();
    let mut all: Vec<FileMeta> = fv.files.iter().map(|f| f.meta.clone()).collect();
    all.extend(written.iter().cloned());
    let closed = policy::closed_windows(&policy::windows(&all, opts), Context { now_ns, ttl_ns: None }, opts);
    for meta in written {
        let start = window_start(meta.max_ts, w);
        if old.contains(&start) && closed.contains(&start) {
            meta.level = policy::LATE_LEVEL;
        }
    }
}

/// True when a tombstone in force in `sv` may cover rows of `file` that were written before it
/// (so rewriting the file would drop them).
pub(crate) fn has_unapplied_tombstones(sv: &SuperVersion, file: &FileMeta) -> bool {
    let Some(table) = sv.families.get(&file.family).map(|f| f.table) else { return false };
    sv.tombstones.iter().any(|t| {
        t.table == table
            && t.family.is_none_or(|f| f == file.family)
            && t.id >= file.tombstone_mark
            && t.range.overlaps(file.min_ts, file.max_ts)
            && file.min_seq < t.seq
    })
}

/// Ids of the tombstones that no longer cover any data: every file of their families was
/// written with them applied, and the memtables hold nothing older.
pub(crate) fn dead_tombstones(sv: &SuperVersion) -> BTreeSet<u64> {
    let mut dead = BTreeSet::new();
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
    dead
}

/// The most files any window of any family holds (drives write throttling).
pub(crate) fn max_window_files(sv: &SuperVersion, base: &CompactionOptions) -> usize {
    sv.families
        .iter()
        .map(|(id, fv)| {
            let files: Vec<FileMeta> = fv.files.iter().map(|f| f.meta.clone()).collect();
            policy::windows(&files, &base.for_family(&sv.windows, *id)).values().map(Vec::len).max().unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

/// Windows that hold files, and bytes still to compact, of `family` (for stats).
pub(crate) fn family_backlog(
    sv: &SuperVersion,
    family: FamilyId,
    opts: &CompactionOptions,
    now_ns: i64,
) -> (usize, u64) {
    let Some((files, ctx)) = family_files(sv, family, opts, now_ns) else { return (0, 0) };
    (policy::windows(&files, opts).len(), policy::pending_bytes(&files, ctx, opts))
}
