//! The compaction policy: a pure function from a family's files to the next task.

use std::collections::BTreeMap;

use super::options::CompactionOptions;
use crate::manifest::{FileId, FileMeta};
use crate::sst::window_start;

/// What the policy asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    /// Delete these files: every row in them is past the TTL. No file is read or rewritten.
    DropExpired {
        /// Files to delete.
        files: Vec<FileId>,
    },
    /// Merge these files of one window into as few files as their size allows.
    Merge {
        /// Start of the window.
        window: i64,
        /// Files to merge, in sequence order.
        files: Vec<FileId>,
        /// Why: `"tiered"` (open window) or `"closed"` (window is done).
        reason: &'static str,
    },
}

/// What the policy needs to know besides the files.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context {
    /// Wall-clock now, ns since the epoch.
    pub now_ns: i64,
    /// The family's TTL in ns, if any.
    pub ttl_ns: Option<i64>,
}

/// Groups files by window (of their newest row), each group in sequence order.
pub(crate) fn windows<'a>(files: &'a [FileMeta], opts: &CompactionOptions) -> BTreeMap<i64, Vec<&'a FileMeta>> {
    let w = opts.window_ns();
    let mut out: BTreeMap<i64, Vec<&FileMeta>> = BTreeMap::new();
    for f in files {
        out.entry(window_start(f.max_ts, w)).or_default().push(f);
    }
    for group in out.values_mut() {
        group.sort_by_key(|f| (f.min_seq, f.id));
    }
    out
}

/// Picks the next task for a family, or `None` when its files are in shape.
pub(crate) fn pick(files: &[FileMeta], ctx: Context, opts: &CompactionOptions) -> Option<Task> {
    if let Some(ttl) = ctx.ttl_ns {
        let horizon = ctx.now_ns.saturating_sub(ttl);
        let expired: Vec<FileId> = files.iter().filter(|f| f.max_ts < horizon).map(|f| f.id).collect();
        if !expired.is_empty() {
            return Some(Task::DropExpired { files: expired });
        }
    }
    let groups = windows(files, opts);
    let newest = groups.keys().next_back().copied();
    let closed_before = ctx.now_ns.saturating_sub(i64::try_from(opts.closed_after.as_nanos()).unwrap_or(i64::MAX));
    let w = opts.window_ns();
    // Closed windows first (oldest first): they end as one file, then are never touched again.
    for (&start, group) in &groups {
        let closed = Some(start) != newest && start.saturating_add(w) <= closed_before;
        if closed && group.len() > 1 {
            let files = group.iter().take(opts.max_merge).map(|f| f.id).collect();
            return Some(Task::Merge { window: start, files, reason: "closed" });
        }
    }
    for (&start, group) in groups.iter().rev() {
        if let Some(run) = tiered_run(group, opts) {
            return Some(Task::Merge { window: start, files: run, reason: "tiered" });
        }
    }
    None
}

/// The first run of consecutive (in sequence order) files of similar size, long enough to merge.
fn tiered_run(group: &[&FileMeta], opts: &CompactionOptions) -> Option<Vec<FileId>> {
    let min = opts.min_merge.max(2);
    if group.len() < min {
        return None;
    }
    for start in 0..=group.len() - min {
        let mut lo = u64::MAX;
        let mut hi = 0u64;
        let mut end = start;
        while let Some(file) = group.get(end).filter(|_| end - start < opts.max_merge) {
            let size = file.size.max(1);
            let (nlo, nhi) = (lo.min(size), hi.max(size));
            if nhi as f64 > nlo as f64 * opts.size_ratio {
                break;
            }
            (lo, hi) = (nlo, nhi);
            end += 1;
        }
        if end - start >= min {
            return Some(group.iter().take(end).skip(start).map(|f| f.id).collect());
        }
    }
    None
}

/// Bytes the policy would still rewrite if it ran until the family is in shape (an estimate:
/// every file of a window with more than one file, plus expired files).
pub(crate) fn pending_bytes(files: &[FileMeta], ctx: Context, opts: &CompactionOptions) -> u64 {
    let horizon = ctx.ttl_ns.map(|t| ctx.now_ns.saturating_sub(t));
    let live: Vec<FileMeta> = files.iter().filter(|f| horizon.is_none_or(|h| f.max_ts >= h)).cloned().collect();
    windows(&live, opts).values().filter(|g| g.len() > 1).flat_map(|g| g.iter().map(|f| f.size)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000_000;
    const DAY: i64 = 24 * HOUR;

    fn file(id: u64, size: u64, min_ts: i64, max_ts: i64, seq: u64) -> FileMeta {
        FileMeta {
            id,
            family: 1,
            size,
            rows: 10,
            series: 1,
            min_ts,
            max_ts,
            min_seq: seq,
            max_seq: seq + 9,
            level: 0,
            tombstone_mark: 0,
        }
    }

    fn ctx(now: i64) -> Context {
        Context { now_ns: now, ttl_ns: None }
    }

    #[test]
    fn expired_files_are_dropped_without_merging() {
        let files = [file(1, 100, 0, DAY - 1, 1), file(2, 100, DAY, 2 * DAY - 1, 20)];
        let task = pick(&files, Context { now_ns: 3 * DAY, ttl_ns: Some(DAY + HOUR) }, &CompactionOptions::default());
        assert_eq!(task, Some(Task::DropExpired { files: vec![1] }));
    }

    #[test]
    fn closed_windows_merge_to_one_file() {
        let files = [file(1, 100, 0, HOUR, 1), file(2, 5, 2 * HOUR, 3 * HOUR, 50), file(3, 100, DAY, DAY + 1, 60)];
        let task = pick(&files, ctx(10 * DAY), &CompactionOptions::default());
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![1, 2], reason: "closed" }));
    }

    #[test]
    fn the_newest_window_stays_open_and_merges_similar_sizes_only() {
        let opts = CompactionOptions::default();
        let mut files = vec![file(1, 1000, 0, 10, 1)];
        for i in 0..3 {
            files.push(file(2 + i, 10, 20, 30, 100 + i * 10));
        }
        assert_eq!(pick(&files, ctx(10 * DAY), &opts), None, "three small files are not enough");
        files.push(file(5, 12, 20, 30, 200));
        let task = pick(&files, ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![2, 3, 4, 5], reason: "tiered" }));
    }

    #[test]
    fn tiered_runs_are_contiguous_in_sequence_order() {
        let opts = CompactionOptions::default();
        // A big file between small ones breaks the run: merging 1,2 with 4,5 around 3 would let
        // merged rows outrank the big file's newer cells.
        let files = [
            file(1, 10, 0, 5, 1),
            file(2, 10, 0, 5, 20),
            file(3, 10_000, 0, 5, 40),
            file(4, 10, 0, 5, 60),
            file(5, 10, 0, 5, 80),
        ];
        assert_eq!(pick(&files, ctx(0), &opts), None);
    }

    #[test]
    fn pending_bytes_counts_windows_with_several_files() {
        let files = [file(1, 100, 0, 1, 1), file(2, 50, 0, 1, 20), file(3, 7, DAY, DAY, 40)];
        assert_eq!(pending_bytes(&files, ctx(0), &CompactionOptions::default()), 150);
    }
}
