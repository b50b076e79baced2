//! Late data in closed windows (issue #26): files flushed into a window that is already closed
//! stay beside its main file as late runs; the main file is rewritten only once the runs reach
//! `late_merge_ratio` of it; `max_late_runs` bounds the files of a window; reads, TTL and range
//! deletes see runs like any file; reopening keeps them.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Model, f64_write, scan_all};
use isobar_storage::{
    ColumnType, CompactionOptions, Db, Options, SeriesSelector, SyncPolicy, TableChange, TableSpec, TimeRange,
};

const MINUTE: i64 = 60_000_000_000;
const DAY: i64 = 24 * 60 * MINUTE;
const SERIES: [&str; 4] = ["s0", "s1", "s2", "s3"];

/// A database whose compaction runs only when the test asks ([`Db::compact_pending`]).
fn open(dir: &std::path::Path, compaction: CompactionOptions) -> Db {
    let compaction = CompactionOptions { background: false, ..compaction };
    Db::open(dir, Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap()
}

/// Start of a day ten days ago: window 0 of these tests. Window 1 follows it.
fn base() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    (now / DAY - 10) * DAY
}

/// A sensor-like value that does not compress to nothing (so file sizes grow with rows).
fn value(series: usize, minute: i64, tag: f64) -> f64 {
    let mut h = (minute as u64 ^ (series as u64) << 32 ^ tag.to_bits()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 29;
    (h % 100_000) as f64 / 100.0
}

/// Writes rows `minutes` (offset by `offset_ns`) of every series into window `day`, values
/// derived from `tag`, and records them in the model.
fn write(db: &Db, model: &mut Model, day: i64, minutes: std::ops::Range<i64>, offset_ns: i64, tag: f64) {
    for (i, s) in SERIES.into_iter().enumerate() {
        let ts: Vec<i64> = minutes.clone().map(|m| base() + day * DAY + m * MINUTE + offset_ns).collect();
        let values = minutes.clone().map(|m| value(i, m, tag)).collect();
        let w = f64_write("t", s, ts, "a", "x", values);
        db.write(w.clone()).unwrap();
        model.write(&w);
    }
}

/// SSTable names and sizes on disk.
fn sst_files(db: &Db) -> BTreeMap<String, u64> {
    std::fs::read_dir(db.path().join("sst"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sst"))
        .map(|e| (e.file_name().to_string_lossy().to_string(), e.metadata().unwrap().len()))
        .collect()
}

/// Window 0 written in order over three flushes, then window 1 opened (one flush): window 0 is
/// closed and merged into its main file. Returns the main file's name.
fn closed_window_with_main(db: &Db, model: &mut Model) -> String {
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)])).unwrap();
    for part in 0..3 {
        write(db, model, 0, part * 480..(part + 1) * 480, 0, 0.0);
        db.flush().unwrap();
    }
    db.compact_pending().unwrap();
    let open_window = sst_files(db);
    assert_eq!(open_window.len(), 3, "three flushes of an open window stay apart: {open_window:?}");
    write(db, model, 1, 0..60, 0, 0.0);
    db.flush().unwrap();
    let before = sst_files(db);
    assert_eq!(db.compact_pending().unwrap(), 1, "the closed window merges its in-order files once");
    let after = sst_files(db);
    assert_eq!(after.len(), 2);
    let main: Vec<&String> = after.keys().filter(|n| !before.contains_key(*n)).collect();
    assert_eq!(main.len(), 1, "{before:?} -> {after:?}");
    main[0].clone()
}

fn check(db: &Db, model: &Model) {
    let rows = scan_all(db, "t", &SeriesSelector::All, TimeRange::ALL);
    assert_eq!(rows, model.scan("t", &SeriesSelector::All, TimeRange::ALL));
}

#[test]
fn late_files_become_runs_and_rewrite_the_main_file_only_at_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), CompactionOptions::default());
    let mut model = Model::default();
    let main = closed_window_with_main(&db, &mut model);
    let window1: BTreeSet<String> = sst_files(&db).into_keys().filter(|n| *n != main).collect();
    let main_bytes = sst_files(&db)[&main];
    let mut late_flushes_kept = 0;
    let mut rewritten = false;
    for round in 0..40i64 {
        // New rows between the minutes of window 0, and an overwrite of one existing minute.
        write(&db, &mut model, 0, round * 30..round * 30 + 30, MINUTE / 2, 1000.0 * (round + 1) as f64);
        write(&db, &mut model, 0, round..round + 1, 0, -1.0 - round as f64);
        db.flush().unwrap();
        let files = sst_files(&db);
        let runs: u64 = files.iter().filter(|(n, _)| **n != main && !window1.contains(*n)).map(|(_, s)| *s).sum();
        let reaches_ratio = runs as f64 >= 0.5 * main_bytes as f64;
        let written_before = db.stats().compaction_bytes_written;
        db.compact_pending().unwrap();
        check(&db, &model);
        let after = sst_files(&db);
        if !reaches_ratio {
            assert!(after.contains_key(&main), "round {round}: runs of {runs} B < half of {main_bytes} B rewrote it");
            assert!(
                db.stats().compaction_bytes_written - written_before < main_bytes,
                "round {round}: only runs were merged"
            );
            late_flushes_kept += 1;
        } else {
            assert!(!after.contains_key(&main), "round {round}: runs of {runs} B >= half of {main_bytes} B");
            assert_eq!(after.len(), 1 + window1.len(), "window 0 is one file again: {after:?}");
            rewritten = true;
            break;
        }
    }
    assert!(rewritten, "the runs reached half of the main file within 40 rounds");
    assert!(late_flushes_kept >= 3, "several late flushes stayed runs first ({late_flushes_kept})");
    // The rewritten window is settled: the next late file is a run beside the new main file.
    let settled = sst_files(&db);
    write(&db, &mut model, 0, 1300..1310, MINUTE / 4, 7.0);
    db.flush().unwrap();
    db.compact_pending().unwrap();
    let after = sst_files(&db);
    assert!(settled.keys().all(|n| after.contains_key(n)), "{settled:?} -> {after:?}");
    assert_eq!(after.len(), settled.len() + 1);
    check(&db, &model);
}

#[test]
fn the_run_cap_bounds_the_files_of_a_closed_window() {
    let dir = tempfile::tempdir().unwrap();
    // No size-tiered merges among runs and no main rewrite: only the cap can merge runs.
    let opts = CompactionOptions { max_late_runs: 2, min_merge: 32, late_merge_ratio: 1e9, ..Default::default() };
    let db = open(dir.path(), opts);
    let mut model = Model::default();
    let main = closed_window_with_main(&db, &mut model);
    let window_files = || sst_files(&db).len() - 1;
    for round in 0..8i64 {
        write(&db, &mut model, 0, round * 10..round * 10 + 10, MINUTE / 2, round as f64);
        db.flush().unwrap();
        db.compact_pending().unwrap();
        assert!(window_files() <= 1 + 2, "round {round}: {:?}", sst_files(&db));
        assert!(sst_files(&db).contains_key(&main), "the cap merges runs, not the main file");
        check(&db, &model);
    }
    assert_eq!(window_files(), 3, "main file and two runs");
    assert!(db.stats().compactions >= 6, "the cap merged runs: {}", db.stats().compactions);
}

#[test]
fn reads_are_the_same_before_and_after_the_final_merge() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), CompactionOptions::default());
    let mut model = Model::default();
    let main = closed_window_with_main(&db, &mut model);
    for round in 0..3i64 {
        // Overwrites of main-file rows (the newest write must win) and new rows.
        write(&db, &mut model, 0, 100 + round * 5..110 + round * 5, 0, 500.0 + round as f64);
        write(&db, &mut model, 0, round * 10..round * 10 + 10, MINUTE / 3, 900.0 + round as f64);
        db.flush().unwrap();
        db.compact_pending().unwrap();
    }
    assert!(sst_files(&db).contains_key(&main) && sst_files(&db).len() == 5, "{:?}", sst_files(&db));
    let queries = [
        (SeriesSelector::All, TimeRange::ALL),
        (SeriesSelector::Exact("s2".into()), TimeRange::ALL),
        (SeriesSelector::Prefix("s".into()), TimeRange::new(base() + 100 * MINUTE, base() + 120 * MINUTE)),
        (SeriesSelector::Exact("s1".into()), TimeRange::new(base() + 107 * MINUTE, base() + 107 * MINUTE + 1)),
        (SeriesSelector::Exact("s3".into()), TimeRange::new(base() + 5 * MINUTE + MINUTE / 3, base() + 6 * MINUTE)),
    ];
    let with_runs: Vec<_> = queries.iter().map(|(s, r)| scan_all(&db, "t", s, *r)).collect();
    for ((s, r), rows) in queries.iter().zip(&with_runs) {
        assert_eq!(rows, &model.scan("t", s, *r), "{s:?} {r:?}");
        assert!(!rows.is_empty(), "{s:?} {r:?}");
    }
    let report = db.compact("t", None, None).unwrap();
    assert_eq!(report.files_in, 4, "the main file and its three runs: {report:?}");
    assert_eq!(sst_files(&db).len(), 2);
    let merged: Vec<_> = queries.iter().map(|(s, r)| scan_all(&db, "t", s, *r)).collect();
    assert_eq!(with_runs, merged);
}

#[test]
fn ttl_and_range_deletes_apply_to_late_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), CompactionOptions::default());
    let mut model = Model::default();
    let main = closed_window_with_main(&db, &mut model);
    write(&db, &mut model, 0, 0..200, MINUTE / 2, 3.0);
    db.flush().unwrap();
    db.compact_pending().unwrap();
    assert_eq!(sst_files(&db).len(), 3, "main file, one run, window 1");
    // A delete across the main file and the run: hidden at once, gone after the final merge.
    let range = TimeRange::new(base() + 50 * MINUTE, base() + 150 * MINUTE);
    db.delete("t", None, SeriesSelector::Exact("s1".into()), range).unwrap();
    model.delete("t", None, &SeriesSelector::Exact("s1".into()), range);
    check(&db, &model);
    let rows_before = db.stats().families[0].file_rows;
    db.compact("t", None, None).unwrap();
    check(&db, &model);
    assert_eq!(rows_before - db.stats().families[0].file_rows, 200, "100 minutes of main and run rows of s1");
    assert!(!sst_files(&db).contains_key(&main));
    // A new run, then a TTL that expires window 0: its main file and run are dropped unread.
    write(&db, &mut model, 0, 300..320, MINUTE / 2, 4.0);
    db.flush().unwrap();
    db.compact_pending().unwrap();
    assert_eq!(sst_files(&db).len(), 3);
    // The TTL's horizon falls 30 minutes into window 1 (its file, holding minutes 0-59, lives).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let ttl_ns = now - (base() + DAY + 30 * MINUTE);
    db.alter_table("t", TableChange::SetTtl { family: None, ttl_ns: Some(ttl_ns) }).unwrap();
    let live = scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL);
    assert!(live.iter().all(|(_, ts, _)| *ts > base() + DAY + 30 * MINUTE), "window 0, runs included, is past the TTL");
    assert_eq!(live, model.scan("t", &SeriesSelector::All, TimeRange::new(base() + DAY + 31 * MINUTE, i64::MAX)));
    let written_before = db.stats().compaction_bytes_written;
    db.compact_pending().unwrap();
    assert_eq!(sst_files(&db).len(), 1, "window 0's main file and run were dropped: {:?}", sst_files(&db));
    assert_eq!(db.stats().compaction_bytes_written, written_before, "dropped unread, nothing rewritten");
}

#[test]
fn reopening_keeps_late_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    let files = {
        let db = open(dir.path(), CompactionOptions::default());
        closed_window_with_main(&db, &mut model);
        for round in 0..2i64 {
            write(&db, &mut model, 0, round * 50..round * 50 + 50, MINUTE / 2, round as f64);
            db.flush().unwrap();
            db.compact_pending().unwrap();
        }
        db.close().unwrap();
        sst_files(&db)
    };
    assert_eq!(files.len(), 4, "main file, two runs, window 1: {files:?}");
    let db = open(dir.path(), CompactionOptions::default());
    assert_eq!(db.compact_pending().unwrap(), 0, "the runs are still runs, not in-order files to merge");
    assert_eq!(sst_files(&db), files);
    check(&db, &model);
    write(&db, &mut model, 0, 200..250, MINUTE / 2, 9.0);
    db.flush().unwrap();
    db.compact_pending().unwrap();
    let after = sst_files(&db);
    assert!(files.keys().all(|n| after.contains_key(n)), "a late file after reopening is one more run");
    check(&db, &model);
}
