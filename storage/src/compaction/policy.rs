//! The compaction policy: a pure function from a family's files to the next task.
//!
//! Per window, in this order:
//! - **Expired** files (every row past the TTL) are dropped without being read.
//! - A **closed** window (not the newest, and past `closed_after`) merges the files it received
//!   while it was open into one, its **main file**.
//! - Files a flush writes into a window that is already closed (late data) are marked as its
//!   **late runs** ([`LATE_LEVEL`] in the manifest, so reopening keeps the distinction): sorted
//!   runs kept beside the main file, which reads merge like any overlapping files. They are
//!   merged with each other size-tiered (as an open window's files are); past
//!   `max_late_runs` the smallest adjacent runs are merged; the main file is rewritten with all
//!   of them only when together they reach `late_merge_ratio` of its bytes (the arithmetic
//!   behind the default is on [`CompactionOptions::late_merge_ratio`]). Before this, every late
//!   flush rewrote its whole window, which made a few per cent of late rows cost 2.5 times the
//!   write amplification of in-order data.
//! - An **open** window merges runs of similar-sized files (size-tiered).
//!
//! Every merge takes files that are contiguous in sequence order within their window: the main
//! file is the oldest (late runs are flushed after the window closed), so the main file with all
//! runs, or any adjacent runs, qualify. A window whose data all came late takes its oldest run
//! as its main file.

use std::collections::BTreeMap;

use super::options::CompactionOptions;
use crate::manifest::{FileId, FileMeta};
use crate::sst::window_start;

/// The manifest level of a late run: a file flushed into a window that was already closed, or
/// a merge of such files. Every other file is level 0.
pub(crate) const LATE_LEVEL: u32 = 1;

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
        /// Why: `"tiered"` (open window), `"closed"` (a closed window gets its main file),
        /// `"late-runs"` (similar-sized late runs of a closed window), `"late-cap"` (too many
        /// late runs) or `"late-main"` (the runs reached their share of the main file).
        reason: &'static str,
    },
}

impl Task {
    /// The manifest level of the files the task writes: [`LATE_LEVEL`] when they merge late
    /// runs with each other (the result is a late run), 0 otherwise.
    pub(crate) fn output_level(&self) -> u32 {
        match self {
            Task::Merge { reason: "late-runs" | "late-cap", .. } => LATE_LEVEL,
            _ => 0,
        }
    }
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

/// Window starts of `groups` that are closed: not the newest window, and ended more than
/// `closed_after` before now.
pub(crate) fn closed_windows<T>(groups: &BTreeMap<i64, T>, ctx: Context, opts: &CompactionOptions) -> Vec<i64> {
    let newest = groups.keys().next_back().copied();
    let closed_before = ctx.now_ns.saturating_sub(i64::try_from(opts.closed_after.as_nanos()).unwrap_or(i64::MAX));
    let w = opts.window_ns();
    groups.keys().copied().filter(|&start| Some(start) != newest && start.saturating_add(w) <= closed_before).collect()
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
    let closed = closed_windows(&groups, ctx, opts);
    // Closed windows first (oldest first): they settle into a main file and a few runs.
    for (&start, group) in groups.iter().filter(|(s, _)| closed.contains(s)) {
        if let Some((files, reason)) = closed_task(group, opts) {
            return Some(Task::Merge { window: start, files, reason });
        }
    }
    for (&start, group) in groups.iter().rev().filter(|(s, _)| !closed.contains(s)) {
        if let Some(run) = tiered_run(group, opts) {
            return Some(Task::Merge { window: start, files: run, reason: "tiered" });
        }
    }
    None
}

/// The merge a closed window needs, if any: its in-order files into the main file, the main
/// file with the late runs once they reach their share, or a merge among the runs.
fn closed_task(group: &[&FileMeta], opts: &CompactionOptions) -> Option<(Vec<FileId>, &'static str)> {
    let ids = |files: &[&FileMeta]| files.iter().map(|f| f.id).collect::<Vec<_>>();
    let take = opts.max_merge.max(2);
    let in_order = group.iter().take_while(|f| f.level != LATE_LEVEL).count();
    if in_order > 1 {
        return Some((group.iter().take(in_order.min(take)).map(|f| f.id).collect(), "closed"));
    }
    // The main file: the one in-order file, or the oldest run when all the data came late.
    let (main, runs) = group.split_at(in_order.max(1).min(group.len()));
    if runs.is_empty() {
        return None;
    }
    let main_bytes: u64 = main.iter().map(|f| f.size).sum();
    let run_bytes: u64 = runs.iter().map(|f| f.size).sum();
    if run_bytes as f64 >= opts.late_merge_ratio * main_bytes as f64 {
        return Some((group.iter().take(take).map(|f| f.id).collect(), "late-main"));
    }
    let cap = opts.max_late_runs.max(1);
    if runs.len() > cap {
        // Merge the cheapest block of adjacent runs that brings their number back to the cap.
        let k = (runs.len() - cap + 1).min(take);
        let cheapest = runs.windows(k).min_by_key(|block| block.iter().map(|f| f.size).sum::<u64>())?;
        return Some((ids(cheapest), "late-cap"));
    }
    tiered_run(runs, opts).map(|run| (run, "late-runs"))
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
/// the files of the next merge of every window that needs one; expired files are dropped
/// without a rewrite and not counted).
pub(crate) fn pending_bytes(files: &[FileMeta], ctx: Context, opts: &CompactionOptions) -> u64 {
    let horizon = ctx.ttl_ns.map(|t| ctx.now_ns.saturating_sub(t));
    let live: Vec<FileMeta> = files.iter().filter(|f| horizon.is_none_or(|h| f.max_ts >= h)).cloned().collect();
    let groups = windows(&live, opts);
    let closed = closed_windows(&groups, ctx, opts);
    let size_of = |ids: Vec<FileId>| live.iter().filter(|f| ids.contains(&f.id)).map(|f| f.size).sum::<u64>();
    groups
        .iter()
        .map(|(start, group)| {
            let task =
                if closed.contains(start) { closed_task(group, opts).map(|t| t.0) } else { tiered_run(group, opts) };
            task.map_or(0, size_of)
        })
        .sum()
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
    fn pending_bytes_counts_the_files_of_the_next_merge_of_each_window() {
        let opts = CompactionOptions::default();
        let files = [file(1, 100, 0, 1, 1), file(2, 50, 0, 1, 20), file(3, 7, DAY, DAY, 40)];
        // Window 0 is closed at 10 days: its two in-order files merge into its main file.
        assert_eq!(pending_bytes(&files, ctx(10 * DAY), &opts), 150);
        // At time 0 no window is closed, and two files of an open window are not a tiered run:
        // the policy has nothing to do, so nothing is pending (this counted 150 before late
        // runs, when every window with several files was pending, though nothing would merge).
        assert_eq!(pending_bytes(&files, ctx(0), &opts), 0);
        assert_eq!(pick(&files, ctx(0), &opts), None);
        // A closed window with a main file and a small late run is in shape.
        let settled = [file(1, 1000, 0, 1, 1), late(2, 10, 0, 1, 20), file(3, 7, DAY, DAY, 40)];
        assert_eq!(pending_bytes(&settled, ctx(10 * DAY), &opts), 0);
    }

    fn late(id: u64, size: u64, min_ts: i64, max_ts: i64, seq: u64) -> FileMeta {
        FileMeta { level: LATE_LEVEL, ..file(id, size, min_ts, max_ts, seq) }
    }

    /// A closed window 0 (main file 1 of `main` bytes) with late runs of the given sizes, and a
    /// newer window so that window 0 is not the newest.
    fn closed_window(main: u64, runs: &[u64]) -> Vec<FileMeta> {
        let mut files = vec![file(1, main, 0, DAY - 1, 1)];
        for (i, size) in runs.iter().enumerate() {
            let id = 2 + i as u64;
            files.push(late(id, *size, HOUR, 2 * HOUR, 100 * id));
        }
        files.push(file(99, main, DAY, DAY + 1, 50));
        files
    }

    #[test]
    fn late_runs_stay_beside_the_main_file_until_they_reach_the_ratio() {
        let opts = CompactionOptions::default();
        // Three small runs: not enough for a tiered merge, far below half of the main file.
        assert_eq!(pick(&closed_window(1000, &[10, 10, 10]), ctx(10 * DAY), &opts), None);
        // Runs of similar size merge with each other, never with the main file.
        let task = pick(&closed_window(1000, &[10, 10, 10, 12]), ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![2, 3, 4, 5], reason: "late-runs" }));
        assert_eq!(task.map(|t| t.output_level()), Some(LATE_LEVEL), "a merge of runs is a run");
        // 499 bytes of runs against 1,000 of main: still below 0.5.
        assert_eq!(pick(&closed_window(1000, &[400, 99]), ctx(10 * DAY), &opts), None);
        // 500: the main file is rewritten with every run, into a main file again.
        let task = pick(&closed_window(1000, &[400, 100]), ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![1, 2, 3], reason: "late-main" }));
        assert_eq!(task.map(|t| t.output_level()), Some(0));
        // Ratio 0 is the old policy: any late file rewrites the window.
        let eager = CompactionOptions { late_merge_ratio: 0.0, ..opts };
        let task = pick(&closed_window(1000, &[1]), ctx(10 * DAY), &eager);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![1, 2], reason: "late-main" }));
    }

    #[test]
    fn the_run_cap_merges_the_cheapest_adjacent_runs() {
        let opts = CompactionOptions { max_late_runs: 3, ..CompactionOptions::default() };
        // Sizes too far apart to merge size-tiered; 4 runs > cap 3: merge the cheapest pair.
        let files = closed_window(100_000, &[1000, 200, 30, 5]);
        let task = pick(&files, ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![4, 5], reason: "late-cap" }));
        assert_eq!(pick(&closed_window(100_000, &[1000, 200, 30]), ctx(10 * DAY), &opts), None);
        // The default cap is 8 runs.
        let sizes: Vec<u64> = (0..9).map(|i| 4u64.pow(i + 1)).collect();
        let task = pick(&closed_window(10_000_000, &sizes), ctx(10 * DAY), &CompactionOptions::default());
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![2, 3], reason: "late-cap" }));
    }

    #[test]
    fn a_closed_window_merges_its_in_order_files_first_and_keeps_runs_apart() {
        let opts = CompactionOptions::default();
        let mut files = vec![file(1, 700, 0, HOUR, 1), file(2, 100, HOUR, 2 * HOUR, 10)];
        files.push(late(3, 10, 0, 1, 100));
        files.push(file(99, 10, DAY, DAY + 1, 50));
        let task = pick(&files, ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![1, 2], reason: "closed" }));
        assert_eq!(task.map(|t| t.output_level()), Some(0));
        // A window whose data all came late takes its oldest run as the main file.
        let all_late = [late(1, 100, 0, 1, 1), late(2, 10, 0, 1, 20), file(99, 10, DAY, DAY + 1, 50)];
        assert_eq!(pick(&all_late, ctx(10 * DAY), &opts), None);
    }

    #[test]
    fn an_open_window_ignores_the_late_mark() {
        // Late runs of a window that is the newest again (newer windows expired) merge tiered.
        let opts = CompactionOptions::default();
        let files = [file(1, 10, 0, 1, 1), late(2, 10, 0, 1, 20), late(3, 10, 0, 1, 40), late(4, 10, 0, 1, 60)];
        let task = pick(&files, ctx(10 * DAY), &opts);
        assert_eq!(task, Some(Task::Merge { window: 0, files: vec![1, 2, 3, 4], reason: "tiered" }));
    }
}
