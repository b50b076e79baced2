//! A checkpoint taken while idempotent producers write holds, for every producer, exactly the
//! batches up to its restored mark: each of them whole (every row, in every family and table it
//! wrote), none above the mark. A producer that resumes on the restored copy and re-sends from
//! its own start then applies exactly the batches above the mark, each once.
//!
//! Memtables are tiny, so families freeze and flush at different moments while the checkpoint
//! runs: a copy of the manifest's marks (recorded with each flush, as of that flush) or of
//! whatever SSTables exist at link time would give marks ahead of the rows or half batches.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{Cell, create_tables, scan_all};
use isobar_storage::{
    ColumnValues, ColumnWrite, Db, Options, ProducerId, SeriesSelector, SeriesWrite, SyncPolicy, TimeRange, WriteBatch,
    restore_checkpoint,
};

const PRODUCERS: u64 = 3;
/// Upper bound on the batches of one producer, so the test ends whatever happens.
const MAX_BATCHES: u64 = 20_000;
const CHECKPOINTS: usize = 4;
/// Batch `k` writes ts `k * TS_PER_BATCH + j` for `j < rows(k)`.
const TS_PER_BATCH: i64 = 8;
const SEED: u64 = 0x5eed_1b0b_a7c4_0019;

/// SplitMix64 of `x`: the seeded source of every batch's shape.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// How many rows batch `k` of producer `p` writes (1 to 4, seeded).
fn rows_of_batch(p: u64, k: u64) -> usize {
    1 + (mix(SEED ^ (p << 40) ^ k) % 4) as usize
}

fn producer(p: u64) -> ProducerId {
    ProducerId::new(format!("gw-{p}")).unwrap()
}

fn column(family: &str, column: &str, values: ColumnValues) -> ColumnWrite {
    ColumnWrite { family: family.into(), column: column.into(), values, validity: None, nulls: None }
}

/// Batch `k` of producer `p`: series `p<p>` in both families of `t0` and in `t1`, `x = sign * k`.
fn batch(p: u64, k: u64, sign: f64) -> WriteBatch {
    let n = rows_of_batch(p, k);
    let ts: Vec<i64> = (0..n as i64).map(|j| k as i64 * TS_PER_BATCH + j).collect();
    let x = vec![sign * k as f64; n];
    let series = format!("p{p}");
    let mut b = WriteBatch::new();
    b.push(SeriesWrite {
        table: "t0".into(),
        series: series.clone(),
        ts: ts.clone(),
        columns: vec![
            column("a", "x", ColumnValues::F64(x.clone())),
            column("a", "y", ColumnValues::I64((0..n as i64).collect())),
            column("b", "z", ColumnValues::Bool(vec![true; n])),
            column("b", "w", ColumnValues::String(vec![format!("{p}:{k}"); n])),
        ],
    });
    b.push(SeriesWrite { table: "t1".into(), series, ts, columns: vec![column("a", "x", ColumnValues::F64(x))] });
    b
}

/// Per producer, per batch: rows present in (t0 family a, t0 family b, t1), and the x values seen.
type Present = BTreeMap<u64, BTreeMap<u64, ([usize; 3], Vec<u64>)>>;

fn present(db: &Db) -> Present {
    let mut out: Present = BTreeMap::new();
    for (slot, table) in [(0usize, "t0"), (2, "t1")] {
        for (series, ts, cells) in scan_all(db, table, &SeriesSelector::All, TimeRange::ALL) {
            let p: u64 = series.trim_start_matches('p').parse().expect("series p<n>");
            let k = (ts / TS_PER_BATCH) as u64;
            let entry = out.entry(p).or_default().entry(k).or_default();
            if cells.contains_key("a.x") {
                entry.0[slot] += 1;
                if let Some(Cell::F(bits)) = cells.get("a.x") {
                    entry.1.push(*bits);
                }
            }
            if table == "t0" && cells.contains_key("b.z") {
                entry.0[1] += 1;
            }
        }
    }
    out
}

/// Restores `snap` into `into`, opens it, and checks every producer's mark against its rows;
/// returns the database and the marks.
fn restore_and_check(snap: &Path, into: &Path, acked_before: &[u64]) -> (Db, Vec<u64>) {
    restore_checkpoint(snap, into).unwrap();
    let db = Db::open(into, Options { sync: SyncPolicy::None, ..Options::default() }).unwrap();
    let rows = present(&db);
    let mut marks = Vec::new();
    for p in 0..PRODUCERS {
        let state = db.producer_state(&producer(p)).unwrap();
        let mark = state.applied_seq;
        assert_eq!(state.known, mark > 0, "producer {p}: known exactly when it has a mark");
        assert!(
            mark >= acked_before[p as usize],
            "producer {p}: mark {mark} below {} acknowledged before",
            acked_before[p as usize]
        );
        let batches = rows.get(&p).cloned().unwrap_or_default();
        let last_present = batches.keys().next_back().copied().unwrap_or(0);
        assert_eq!(mark, last_present, "producer {p}: the mark is the last batch whose rows are present ({snap:?})");
        for k in 1..=mark {
            let n = rows_of_batch(p, k);
            let got = batches.get(&k).map(|b| b.0);
            assert_eq!(got, Some([n; 3]), "producer {p}: batch {k} (at or below mark {mark}) is whole in every family");
        }
        marks.push(mark);
    }
    (db, marks)
}

#[test]
fn checkpoints_during_producer_writes_hold_marks_that_match_their_rows_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { sync: SyncPolicy::None, memtable_size: 8 << 10, ..Options::default() };
    let db = Db::open(dir.path().join("src"), opts).unwrap();
    create_tables(&db);
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..PRODUCERS).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (db, acked, stop) = (db.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for k in 1..=MAX_BATCHES {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let r = db.write_as(&producer(p), k, batch(p, k, 1.0)).unwrap();
                    assert!(!r.is_duplicate());
                    acked[p as usize].store(k, Ordering::Release);
                }
            })
        })
        .collect();
    let load = || acked.iter().map(|a| a.load(Ordering::Acquire)).collect::<Vec<_>>();
    // Until every writer has acknowledged `floor[p]` batches or stopped (bounded).
    let wait_for = |floor: &[u64]| {
        for _ in 0..100_000 {
            let now = load();
            if (0..now.len()).all(|p| now[p] >= floor[p] || writers[p].is_finished()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    };
    let mut taken = Vec::new();
    for c in 0..CHECKPOINTS {
        wait_for(&[200 * (c as u64 + 1); PRODUCERS as usize]);
        let before = load();
        let snap = dir.path().join(format!("snap{c}"));
        let info = db.checkpoint(&snap).unwrap();
        assert!(info.last_seq > 0);
        taken.push((snap, before));
    }
    let at_end = load();
    wait_for(&at_end.iter().map(|n| n + 50).collect::<Vec<_>>());
    stop.store(true, Ordering::Release);
    for w in writers {
        w.join().expect("writer finished without error");
    }
    let total = load();
    assert!(
        total.iter().zip(&at_end).all(|(t, e)| t > e || *t == MAX_BATCHES),
        "writers kept writing after the checkpoints: {at_end:?} then {total:?}"
    );

    let mut restored_marks = Vec::new();
    for (c, (snap, before)) in taken.iter().enumerate() {
        let (restored, marks) = restore_and_check(snap, &dir.path().join(format!("restored{c}")), before);
        eprintln!("checkpoint {c}: acknowledged before {before:?}, restored marks {marks:?}, total {total:?}");
        restored_marks.push(marks.clone());
        if c + 1 < taken.len() {
            restored.close().unwrap();
            continue;
        }
        // The producers resume on the last copy and re-send everything from their own start, with
        // other values: what the copy holds is a duplicate, the rest is applied, each batch once.
        for p in 0..PRODUCERS {
            for k in 1..=total[p as usize] {
                let r = restored.write_as(&producer(p), k, batch(p, k, -1.0)).unwrap();
                assert_eq!(r.is_duplicate(), k <= marks[p as usize], "producer {p}: re-sent batch {k}");
            }
        }
        let rows = present(&restored);
        for p in 0..PRODUCERS {
            let batches = rows.get(&p).cloned().unwrap_or_default();
            assert_eq!(batches.keys().copied().collect::<Vec<_>>(), (1..=total[p as usize]).collect::<Vec<_>>());
            for (k, (counts, xs)) in batches {
                let n = rows_of_batch(p, k);
                assert_eq!(counts, [n; 3], "producer {p}: batch {k} once, whole");
                let sign = if k <= marks[p as usize] { 1.0 } else { -1.0 };
                assert!(
                    xs.iter().all(|bits| *bits == (sign * k as f64).to_bits()),
                    "producer {p}: batch {k} applied once"
                );
            }
        }
        restored.close().unwrap();
    }
    for pair in restored_marks.windows(2) {
        assert!(pair[0].iter().zip(&pair[1]).all(|(a, b)| a <= b), "later checkpoints hold more: {restored_marks:?}");
    }
    db.close().unwrap();
}
