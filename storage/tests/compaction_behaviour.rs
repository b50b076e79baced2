//! Compaction behaviour: TTL drops whole expired windows without rewriting others; reads and
//! writes run concurrently with compaction and stay correct; tombstones are purged once no data
//! they cover remains.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Model, f64_write, rows_of, scan_all};
use isobar_storage::{
    ColumnType, CompactionOptions, Db, Options, ScanRequest, SeriesSelector, SyncPolicy, TableSpec, TimeRange,
};

const HOUR: i64 = 3_600_000_000_000;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn sst_ids(db: &Db) -> BTreeSet<String> {
    std::fs::read_dir(db.path().join("sst"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".sst"))
        .collect()
}

#[test]
fn ttl_hides_expired_rows_at_once_and_compaction_drops_only_their_window() {
    let dir = tempfile::tempdir().unwrap();
    let compaction = CompactionOptions { window: Duration::from_secs(3600), background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)]).ttl(Duration::from_secs(2 * 3600)))
        .unwrap();
    let t = now();
    let old = vec![t - 5 * HOUR, t - 5 * HOUR + 1];
    let fresh = vec![t - HOUR / 2, t - HOUR / 2 + 1];
    db.write(f64_write("t", "s", old, "a", "x", vec![1.0, 2.0])).unwrap();
    db.write(f64_write("t", "s", fresh.clone(), "a", "x", vec![3.0, 4.0])).unwrap();
    let rows = scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL);
    assert_eq!(rows.iter().map(|r| r.1).collect::<Vec<_>>(), fresh, "expired rows are invisible before any compaction");
    db.flush().unwrap();
    let before = sst_ids(&db);
    assert_eq!(before.len(), 2, "the flush split its rows into two windows: {before:?}");
    let report = db.compact("t", None, None).unwrap();
    assert_eq!(report.expired_files, 1);
    assert_eq!(report.merges, 0, "nothing else is rewritten");
    let after = sst_ids(&db);
    assert_eq!(after.len(), 1);
    assert!(before.is_superset(&after), "the fresh window's file is the same file: {before:?} -> {after:?}");
    assert_eq!(scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL).len(), 2);
}

#[test]
fn tombstones_are_purged_once_compaction_removed_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let compaction = CompactionOptions { background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)])).unwrap();
    db.write(f64_write("t", "s", (0..100).collect(), "a", "x", vec![1.0; 100])).unwrap();
    db.flush().unwrap();
    db.delete("t", None, SeriesSelector::All, TimeRange::new(10, 20)).unwrap();
    assert_eq!(db.stats().families[0].file_rows, 100);
    assert_eq!(scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL).len(), 90);
    let report = db.compact("t", None, None).unwrap();
    assert_eq!(report.tombstones_dropped, 1, "{report:?}");
    assert_eq!(report.merges, 1, "the one file held deleted rows, so it was rewritten");
    assert_eq!(scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL).len(), 90);
    assert_eq!(db.stats().families[0].file_rows, 90, "the deleted rows are gone from disk");
    db.close().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(scan_all(&db, "t", &SeriesSelector::All, TimeRange::ALL).len(), 90);
}

#[test]
fn reads_and_writes_run_concurrently_with_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let compaction = CompactionOptions {
        window: Duration::from_nanos(50),
        min_merge: 2,
        interval: Duration::from_millis(2),
        ..Default::default()
    };
    let opts =
        Options { sync: SyncPolicy::None, memtable_size: 4096, rows_per_page: 16, compaction, ..Options::default() };
    let db = Db::open(dir.path(), opts).unwrap();
    common::create_tables(&db);
    let model = Arc::new(Mutex::new(Model::default()));
    let acked = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, model, acked) = (db.clone(), model.clone(), acked.clone());
        std::thread::spawn(move || {
            for k in 0..400i64 {
                // Each batch writes a new row per series and overwrites the row 7 batches back.
                for (j, s) in ["s0", "s1", "s2"].iter().enumerate() {
                    let ts = if k >= 7 { vec![k - 7, k] } else { vec![k] };
                    let vals = ts.iter().map(|_| (k * 10 + j as i64) as f64).collect();
                    let w = f64_write("t1", s, ts, "a", "x", vals);
                    db.write(w.clone()).unwrap();
                    model.lock().unwrap().write(&w);
                }
                acked.store(k as u64 + 1, Ordering::Release);
                if k % 40 == 39 {
                    db.flush().unwrap();
                }
            }
        })
    };
    let compactor = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !done.load(Ordering::Acquire) && started.elapsed() < Duration::from_secs(60) {
                db.compact("t1", None, None).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let mut scans = 0;
    while !writer.is_finished() && scans < 2000 {
        let k = acked.load(Ordering::Acquire) as i64;
        let rows = rows_of(&db.scan(&ScanRequest::new("t1")).unwrap());
        // Every row acknowledged before the scan began is there, with a value written by a batch
        // at least as new as the last acknowledged write of that row.
        for s in 0..3 {
            let series: Vec<_> = rows.iter().filter(|r| r.0 == format!("s{s}")).collect();
            assert!(series.len() as i64 >= k, "scan {scans}: series s{s} has {} rows, {k} acknowledged", series.len());
            for r in &series {
                let common::Cell::F(bits) = r.2["a.x"] else { panic!("type") };
                let batch = (f64::from_bits(bits) as i64) / 10;
                assert!(batch == r.1 || batch == r.1 + 7, "row {} holds a value of batch {batch}", r.1);
                if r.1 + 7 < k {
                    assert_eq!(batch, r.1 + 7, "scan {scans}: the acknowledged overwrite of row {} is lost", r.1);
                }
            }
        }
        scans += 1;
    }
    writer.join().unwrap();
    done.store(true, Ordering::Release);
    compactor.join().unwrap();
    let want = model.lock().unwrap().scan("t1", &SeriesSelector::All, TimeRange::ALL);
    assert_eq!(scan_all(&db, "t1", &SeriesSelector::All, TimeRange::ALL), want);
    assert!(db.stats().compactions > 0, "compaction ran during the test");
    assert!(scans > 0);
}

#[test]
fn window_width_is_set_per_family_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        sync: SyncPolicy::None,
        compaction: CompactionOptions { background: false, ..Default::default() },
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts()).unwrap();
    common::create_tables(&db);
    let change = isobar_storage::TableChange::SetCompactionWindow { family: Some("a".into()), window_ns: Some(100) };
    db.alter_table("t0", change).unwrap();
    let bad = isobar_storage::TableChange::SetCompactionWindow { family: None, window_ns: Some(0) };
    assert!(db.alter_table("t0", bad).is_err());
    let both = |db: &Db| {
        db.write(f64_write("t0", "s", (0..300).collect(), "a", "x", vec![1.0; 300])).unwrap();
        let b = isobar_storage::SeriesWrite::new("t0", "s", (0..300).collect()).column(
            "b",
            "z",
            isobar_storage::ColumnValues::Bool(vec![true; 300]),
        );
        db.write(b).unwrap();
        db.flush().unwrap();
    };
    both(&db);
    let files =
        |db: &Db, fam: &str| db.stats().families.iter().find(|f| f.table == "t0" && f.family == fam).unwrap().files;
    assert_eq!(files(&db, "a"), 3, "family a splits at 100 ns windows");
    assert_eq!(files(&db, "b"), 1, "family b keeps the default one-day window");
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    both(&db);
    assert_eq!(files(&db, "a"), 6, "the width survived the reopen");
    db.compact("t0", None, None).unwrap();
    assert_eq!(files(&db, "a"), 3);
    assert_eq!(files(&db, "b"), 1);
    assert_eq!(scan_all(&db, "t0", &SeriesSelector::All, TimeRange::ALL).len(), 300);
}

#[test]
fn closed_after_is_set_per_family_drives_the_policy_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // The database default keeps every window open for ten days, so nothing merges by itself.
    let opts = || Options {
        sync: SyncPolicy::None,
        compaction: CompactionOptions {
            closed_after: Duration::from_secs(10 * 86_400),
            interval: Duration::from_millis(10),
            ..Default::default()
        },
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts()).unwrap();
    common::create_tables(&db);
    let bad = isobar_storage::TableChange::SetClosedAfter { family: Some("a".into()), closed_after_ns: Some(-1) };
    assert!(db.alter_table("t0", bad).unwrap_err().to_string().contains("closed_after must not be negative"));
    let unknown = isobar_storage::TableChange::SetClosedAfter { family: Some("nope".into()), closed_after_ns: Some(0) };
    assert!(db.alter_table("t0", unknown).is_err());
    let change = isobar_storage::TableChange::SetClosedAfter { family: Some("a".into()), closed_after_ns: Some(0) };
    let def = db.alter_table("t0", change).unwrap();
    let (a, b) = (def.family("a").unwrap().id, def.family("b").unwrap().id);
    assert_eq!(db.family_compaction(a).closed_after_ns, Some(0));
    assert_eq!(db.family_compaction(b).closed_after_ns, None, "only family a has its own");

    // Two flushes into a window two days old, and one row now (so the old window is not the newest).
    let old = now() - 48 * HOUR;
    for (i, ts) in [old, old + 1].into_iter().enumerate() {
        db.write(f64_write("t0", "s", vec![ts], "a", "x", vec![i as f64])).unwrap();
        let z = isobar_storage::SeriesWrite::new("t0", "s", vec![ts]).column(
            "b",
            "z",
            isobar_storage::ColumnValues::Bool(vec![true]),
        );
        db.write(z).unwrap();
        db.flush().unwrap();
    }
    db.write(f64_write("t0", "s", vec![now()], "a", "x", vec![9.0])).unwrap();
    let z = isobar_storage::SeriesWrite::new("t0", "s", vec![now()]).column(
        "b",
        "z",
        isobar_storage::ColumnValues::Bool(vec![true]),
    );
    db.write(z).unwrap();
    db.flush().unwrap();
    let files =
        |db: &Db, fam: &str| db.stats().families.iter().find(|f| f.table == "t0" && f.family == fam).unwrap().files;
    // Family a's old window is closed at once and merged by the background worker (bounded wait).
    let mut waited = 0;
    while files(&db, "a") != 2 && waited < 1000 {
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    assert_eq!(files(&db, "a"), 2, "a's closed window merged into one file, beside the newest window's");
    assert_eq!(files(&db, "b"), 3, "b follows the ten-day default: its old window stays open, unmerged");
    db.close().unwrap();

    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.family_compaction(a).closed_after_ns, Some(0), "the setting survived the reopen");
    let reset = isobar_storage::TableChange::SetClosedAfter { family: None, closed_after_ns: None };
    db.alter_table("t0", reset).unwrap();
    assert_eq!(db.family_compaction(a), isobar_storage::FamilyCompaction::default());
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.family_compaction(a).closed_after_ns, None, "the reset survived the reopen");
}
