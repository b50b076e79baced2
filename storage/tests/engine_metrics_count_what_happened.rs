//! `Db::metrics` counts exactly what the engine did: points and WAL records of writes, one
//! `fdatasync` per acknowledged write under `sync = always` when writes do not overlap, flushes
//! and their bytes, merges and write amplification, files and bytes per family, open series.

mod common;

use common::f64_write;
use isobar_storage::{ColumnType, CompactionOptions, Db, Options, SyncPolicy, TableSpec};

#[test]
fn metrics_move_by_the_amounts_written_flushed_and_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let compaction = CompactionOptions { background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::Always, compaction, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)]).family("b", &[("y", ColumnType::F64)]))
        .unwrap();
    let before = db.metrics();
    assert_eq!(before.stats.flushes, 0);
    assert_eq!(before.write_amplification(), 0.0);
    assert_eq!(before.memtable_budget, Options::default().memtable_budget as u64);

    for round in 0..2i64 {
        for s in 0..3i64 {
            let ts: Vec<i64> = (0..5).map(|i| 1_000 + round * 100 + i).collect();
            db.write(f64_write("t", &format!("s{s}"), ts, "a", "x", vec![1.5; 5])).unwrap();
        }
        let open = db.metrics();
        let a = open.stats.families.iter().find(|f| f.family == "a").unwrap();
        assert_eq!(a.memtable_series, 3, "three series are open in family a");
        assert!(a.memtable_bytes > 0);
        assert_eq!(a.frozen_memtable_bytes, 0);
        db.flush().unwrap();
    }
    let after = db.metrics();
    assert_eq!(after.stats.points_written - before.stats.points_written, 30);
    assert_eq!(after.stats.writes - before.stats.writes, 6);
    assert_eq!(after.wal.appends - before.wal.appends, 6);
    assert!(after.wal.append_bytes - before.wal.append_bytes >= 30 * 8, "payload holds the values");
    assert!(after.wal.written_bytes >= after.wal.append_bytes, "framing is added on disk");
    assert!(after.wal.syncs >= 6, "every acknowledged write was synced: {}", after.wal.syncs);
    assert_eq!(after.wal.sync_latency.count, after.wal.syncs);
    assert_eq!(after.stats.flushes, 2);
    let a = after.stats.families.iter().find(|f| f.family == "a").unwrap();
    assert_eq!(a.files, 2);
    assert_eq!(a.file_bytes, after.stats.flush_bytes, "only family a has files");
    assert_eq!(a.memtable_series, 0, "flushed memtables hold no series");
    let b = after.stats.families.iter().find(|f| f.family == "b").unwrap();
    assert_eq!((b.files, b.file_bytes), (0, 0));
    assert_eq!(after.write_amplification(), 1.0, "flushed once, never rewritten");

    let report = db.compact("t", None, None).unwrap();
    assert_eq!(report.merges, 1);
    let compacted = db.metrics();
    assert_eq!(compacted.stats.compactions, 1);
    assert_eq!(compacted.compactions_running, 0, "the merge is over");
    assert_eq!(compacted.stats.compaction_bytes_read, after.stats.flush_bytes);
    let wa = compacted.write_amplification();
    let want = (compacted.stats.flush_bytes + compacted.stats.compaction_bytes_written) as f64
        / compacted.stats.flush_bytes as f64;
    assert!(wa > 1.0 && (wa - want).abs() < 1e-12, "{wa} vs {want}");
    assert_eq!(compacted.stall_rejections, 0);
    assert_eq!(compacted.stall_time, std::time::Duration::ZERO);
}

const HOUR: i64 = 3_600_000_000_000;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

/// A flush writes one file per time window its memtable covers: `flush_files` counts the files,
/// `flushes` the memtables.
#[test]
fn flush_files_counts_every_sstable_written() {
    let dir = tempfile::tempdir().unwrap();
    let compaction =
        CompactionOptions { window: std::time::Duration::from_secs(3600), background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap();
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)]).family("b", &[("y", ColumnType::F64)]))
        .unwrap();
    let ts: Vec<i64> = (0..4).map(|h| 10 * HOUR + h * HOUR).collect();
    db.write(f64_write("t", "s", ts.clone(), "a", "x", vec![1.0; 4])).unwrap();
    db.write(f64_write("t", "s", ts, "b", "y", vec![2.0; 4])).unwrap();
    db.flush().unwrap();
    let stats = db.stats();
    assert_eq!(stats.flushes, 2, "two memtables flushed");
    let files: usize = stats.families.iter().map(|f| f.files).sum();
    assert_eq!(files, 8, "four hourly windows in each of two families");
    assert_eq!(stats.flush_files, 8);
}

/// Dropping files whose rows are all past the TTL deletes them whole: nothing is read, so
/// `compaction_bytes_read` does not move; the files and bytes count as dropped instead.
#[test]
fn dropping_expired_files_reads_nothing_and_counts_them_apart() {
    let dir = tempfile::tempdir().unwrap();
    let compaction =
        CompactionOptions { window: std::time::Duration::from_secs(3600), background: false, ..Default::default() };
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::None, compaction, ..Options::default() }).unwrap();
    let ttl = std::time::Duration::from_secs(2 * 3600);
    db.create_table(TableSpec::new("t").family("a", &[("x", ColumnType::F64)]).ttl(ttl)).unwrap();
    let t = now();
    let old = vec![t - 6 * HOUR, t - 5 * HOUR];
    db.write(f64_write("t", "s", old, "a", "x", vec![1.0, 2.0])).unwrap();
    db.flush().unwrap();
    let flushed = db.stats();
    assert_eq!(flushed.flush_files, 2);
    let report = db.compact("t", None, None).unwrap();
    assert_eq!((report.expired_files, report.merges), (2, 0));
    let after = db.stats();
    assert_eq!(after.compaction_bytes_read, 0, "nothing was read to drop the files");
    assert_eq!(after.compaction_bytes_written, 0);
    assert_eq!(after.compactions, 0, "no merge ran");
    assert_eq!(after.expired_files_dropped, 2);
    assert_eq!(after.expired_bytes_dropped, flushed.flush_bytes, "the whole files were dropped");
    assert_eq!(after.families[0].files, 0);
}
