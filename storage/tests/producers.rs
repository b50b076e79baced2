//! Idempotent producers: a batch is applied once per (producer, seq), whatever is re-sent, and
//! the marks survive reopen (WAL replay only), flush (WAL deleted) and manifest rotation; idle
//! producers expire by age and by count.

mod common;

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use isobar_storage::{
    ColumnValues, Db, Error, InvalidInput, Options, ProducerId, ScanRequest, SeriesWrite, SyncPolicy,
};

fn options() -> Options {
    Options { sync: SyncPolicy::None, ..Options::default() }
}

fn open(dir: &std::path::Path, opts: Options) -> Db {
    let db = Db::open(dir, opts).unwrap();
    if db.table_def("t1").is_err() {
        common::create_tables(&db);
    }
    db
}

fn batch(ts: i64, x: f64) -> SeriesWrite {
    SeriesWrite::new("t1", "s", vec![ts]).column("a", "x", ColumnValues::F64(vec![x]))
}

fn pid(id: &str) -> ProducerId {
    ProducerId::new(id).unwrap()
}

/// Every (ts, x) in t1.
fn rows(db: &Db) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    for b in db.scan(&ScanRequest::new("t1")).unwrap() {
        let ts = b.column(1).as_primitive::<arrow_array::types::TimestampNanosecondType>();
        let x = b.column_by_name("a.x").unwrap().as_primitive::<Float64Type>();
        out.extend((0..b.num_rows()).map(|i| (ts.value(i), x.value(i))));
    }
    out
}

fn applied(db: &Db, id: &str) -> (u64, bool) {
    let s = db.producer_state(&pid(id)).unwrap();
    (s.applied_seq, s.known)
}

#[test]
fn a_duplicate_seq_with_different_content_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), options());
    let p = pid("gw-1");
    let first = db.write_as(&p, 1, batch(10, 1.0)).unwrap();
    assert!(!first.is_duplicate() && first.applied_seq == 1);
    // Same seq, same row key, other value: last-write-wins would replace it; idempotency must not.
    let again = db.write_as(&p, 1, batch(10, 99.0)).unwrap();
    assert!(again.is_duplicate());
    assert_eq!(again.applied_seq, 1);
    let other_row = db.write_as(&p, 1, batch(20, 5.0)).unwrap();
    assert!(other_row.is_duplicate());
    assert_eq!(rows(&db), vec![(10, 1.0)]);
    assert_eq!(db.stats().producer_duplicates, 2);
    assert_eq!(db.stats().producers_tracked, 1);
}

#[test]
fn gaps_are_allowed_and_seqs_at_or_below_the_mark_are_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), options());
    let p = pid("gw-2");
    assert!(!db.write_as(&p, 1, batch(1, 1.0)).unwrap().is_duplicate());
    assert!(!db.write_as(&p, 5, batch(5, 5.0)).unwrap().is_duplicate(), "a gap is allowed");
    for late in [2, 4, 5] {
        let r = db.write_as(&p, late, batch(late as i64 * 100, -1.0)).unwrap();
        assert!(r.is_duplicate(), "seq {late} after 5");
        assert_eq!(r.applied_seq, 5);
    }
    assert_eq!(db.write_as(&p, 6, batch(6, 6.0)).unwrap().applied_seq, 6);
    assert_eq!(rows(&db), vec![(1, 1.0), (5, 5.0), (6, 6.0)]);
    // Producers are independent.
    assert!(!db.write_as(&pid("gw-3"), 1, batch(7, 7.0)).unwrap().is_duplicate());
    assert_eq!(applied(&db, "gw-2"), (6, true));
    assert_eq!(applied(&db, "nobody"), (0, false));
}

#[test]
fn bad_producer_writes_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), options());
    let p = pid("gw-4");
    let zero = db.write_as(&p, 0, batch(1, 1.0)).unwrap_err();
    assert!(matches!(zero, Error::Invalid(InvalidInput::ProducerSeqZero { .. })), "{zero}");
    assert!(ProducerId::new("bad id").is_err());
    let invalid = db.write_as(&p, 3, SeriesWrite::new("nope", "s", vec![1])).unwrap_err();
    assert!(matches!(invalid, Error::Invalid(_)), "{invalid}");
    assert_eq!(applied(&db, "gw-4"), (0, false), "a refused write records no seq");
    assert!(rows(&db).is_empty());
    assert!(!db.write_as(&p, 3, batch(1, 1.0)).unwrap().is_duplicate());
}

#[test]
fn marks_survive_reopen_from_the_wal_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path(), options());
        for seq in 1..=4 {
            db.write_as(&pid("gw-a"), seq, batch(seq as i64, seq as f64)).unwrap();
        }
        db.write_as(&pid("gw-b"), 9, batch(90, 9.0)).unwrap();
        assert_eq!(db.stats().flushes, 0);
        db.close().unwrap();
    }
    let db = open(dir.path(), options());
    assert_eq!(applied(&db, "gw-a"), (4, true));
    assert_eq!(applied(&db, "gw-b"), (9, true));
    assert!(db.write_as(&pid("gw-a"), 4, batch(4, -4.0)).unwrap().is_duplicate());
    assert_eq!(rows(&db).len(), 5);
}

/// The WAL segment files of a database.
fn wal_segments(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir.join("wal")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    names
}

#[test]
fn marks_survive_a_flush_that_deletes_their_wal_records() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { wal_segment_size: 4 << 10, ..options() };
    let first_segment;
    {
        let db = open(dir.path(), opts.clone());
        for seq in 1..=200u64 {
            db.write_as(&pid("gw-f"), seq, batch(seq as i64, seq as f64)).unwrap();
        }
        first_segment = wal_segments(dir.path())[0].clone();
        db.flush().unwrap();
        // A write after the flush rolls over again, so the flushed segments can go.
        db.write(batch(100_000, 0.0)).unwrap();
        db.flush().unwrap();
        assert!(!wal_segments(dir.path()).contains(&first_segment), "the flush deleted the WAL segment");
        db.close().unwrap();
    }
    let db = open(dir.path(), opts);
    assert_eq!(applied(&db, "gw-f"), (200, true));
    assert!(db.write_as(&pid("gw-f"), 150, batch(150, -1.0)).unwrap().is_duplicate());
    assert_eq!(rows(&db).iter().find(|r| r.0 == 150), Some(&(150, 150.0)));
}

#[test]
fn marks_survive_manifest_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let current = || std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    let long = |i: usize| format!("{i:04}-{}", "p".repeat(120));
    {
        let db = open(dir.path(), options());
        let before = current();
        // Each round changes every producer's mark, so each flush's manifest edit carries them
        // all; rounds until the manifest outgrows its rotation threshold (4 MiB), bounded.
        let mut round = 0u64;
        while current() == before && round < 60 {
            round += 1;
            for i in 0..1000 {
                db.write_as(&pid(&long(i)), round, batch(i as i64, round as f64)).unwrap();
            }
            db.flush().unwrap();
        }
        assert_ne!(current(), before, "the manifest rotated");
        db.write_as(&pid(&long(0)), round + 1, batch(0, 0.5)).unwrap();
        db.close().unwrap();
    }
    let db = open(dir.path(), options());
    let round = applied(&db, &long(1)).0;
    assert!(round >= 2);
    assert_eq!(applied(&db, &long(0)), (round + 1, true));
    assert_eq!(applied(&db, &long(999)), (round, true));
    assert_eq!(db.stats().producers_tracked, 1000);
}

#[test]
fn idle_producers_expire_by_age_and_stay_expired_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { producer_state_ttl: Duration::from_millis(1), ..options() };
    {
        let db = open(dir.path(), opts.clone());
        db.write_as(&pid("old"), 7, batch(1, 1.0)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(applied(&db, "old"), (0, false), "idle past the ttl");
        assert!(!db.write_as(&pid("old"), 3, batch(2, 2.0)).unwrap().is_duplicate(), "unknown again: applied");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(db.expire_producers(), 1);
        db.flush().unwrap();
        db.close().unwrap();
    }
    // With a long ttl the forgotten producer must not come back from the WAL or the manifest.
    let db = open(dir.path(), options());
    assert_eq!(applied(&db, "old"), (0, false));
    assert_eq!(db.stats().producers_tracked, 0);
}

#[test]
fn past_the_cap_the_least_recently_active_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { max_producers: 3, ..options() };
    {
        let db = open(dir.path(), opts.clone());
        for (i, id) in ["p0", "p1", "p2"].into_iter().enumerate() {
            db.write_as(&pid(id), 1, batch(i as i64, 0.0)).unwrap();
            std::thread::sleep(Duration::from_millis(3));
        }
        // p0 is active again: p1 is now the least recently active.
        assert!(db.write_as(&pid("p0"), 1, batch(0, 0.0)).unwrap().is_duplicate());
        std::thread::sleep(Duration::from_millis(3));
        db.write_as(&pid("p3"), 1, batch(3, 0.0)).unwrap();
        assert_eq!(db.stats().producers_tracked, 3);
        assert_eq!(db.stats().producers_expired, 1);
        db.flush().unwrap();
        db.close().unwrap();
    }
    let db = open(dir.path(), opts);
    assert_eq!(applied(&db, "p1"), (0, false), "evicted, and still after reopen");
    for id in ["p0", "p2", "p3"] {
        assert_eq!(applied(&db, id), (1, true), "{id}");
    }
}

#[test]
fn racing_writers_of_one_producer_apply_each_seq_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), options());
    let p = pid("racer");
    let applied: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (db, p) = (db.clone(), p.clone());
                s.spawn(move || {
                    (1..=200u64)
                        .filter(|&seq| !db.write_as(&p, seq, batch(seq as i64, t as f64)).unwrap().is_duplicate())
                        .count() as u64
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Racing writers may skip seqs another one applied past, but never apply one twice.
    let total: u64 = applied.iter().sum();
    assert!(total <= 200, "{applied:?}");
    assert_eq!(db.stats().writes, total);
    assert_eq!(db.producer_state(&p).unwrap().applied_seq, 200);
}
