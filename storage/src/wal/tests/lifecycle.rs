//! Segment deletion, concurrent group commit, close, misuse and poisoning.

use std::collections::BTreeSet;
use std::thread;

use super::super::{Error, FailedOp};
use super::*;

fn live_numbers(dir: &Path) -> BTreeSet<u64> {
    super::super::segment::list_segments(&crate::fs::OsFs, dir).expect("list").into_iter().collect()
}

#[test]
fn remove_obsolete_deletes_exactly_the_segments_fully_below_the_seq() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_log(dir.path(), 1..=200, 512);
    let (wal, got, _) = open_and_replay(dir.path(), opts(512, SyncPolicy::Always));
    assert_eq!(got.len(), 200);
    let before = wal.segments();
    assert!(before.len() >= 4);
    let third = &before[2];
    let (first3, last3) = (third.first_seq.expect("first"), third.last_seq.expect("last"));

    // A seq inside the third segment removes the first two only.
    assert_eq!(wal.remove_obsolete(last3 - 1).expect("remove"), 2);
    assert_eq!(live_numbers(dir.path()), before[2..].iter().map(|s| s.number).collect());
    // Its last seq exactly removes the third as well; repeating is a no-op.
    assert_eq!(wal.remove_obsolete(last3).expect("remove"), 1);
    assert_eq!(wal.remove_obsolete(last3).expect("remove"), 0);
    assert_eq!(live_numbers(dir.path()), before[3..].iter().map(|s| s.number).collect());
    assert!(first3 <= last3);

    // Live appends rotate through new segments; the active one is never deleted.
    for seq in 201..=400 {
        wal.append(seq, payload(seq)).expect("append");
    }
    wal.wait_durable(400).expect("durable");
    let live = wal.segments();
    let closed_new = live.iter().filter(|s| !s.active && s.first_seq >= Some(201)).count();
    assert!(closed_new >= 2, "the writer should have rotated: {live:?}");
    let removed = wal.remove_obsolete(300).expect("remove");
    let after = wal.segments();
    assert_eq!(removed, live.len() - after.len());
    for info in &live {
        let kept = after.iter().any(|s| s.number == info.number);
        let obsolete = !info.active && info.last_seq.is_some_and(|l| l <= 300);
        assert_eq!(kept, !obsolete, "segment {info:?}");
        assert_eq!(info.path.exists(), kept);
    }
    assert_eq!(wal.remove_obsolete(u64::MAX).expect("remove"), after.len() - 1);
    let only = wal.segments();
    assert_eq!(only.len(), 1);
    assert!(only[0].active);
    wal.close().expect("close");

    let (_wal, got, _) = open_and_replay(dir.path(), opts(512, SyncPolicy::Always));
    let first_kept = only[0].first_seq.expect("first");
    assert_eq!(got, expected(first_kept..=400));
}

#[test]
fn concurrent_appenders_under_sync_always_get_durable_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wal, _, _) = open_and_replay(dir.path(), opts(16 << 10, SyncPolicy::Always));
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (wal, next) = (Arc::clone(&wal), Arc::clone(&next));
            thread::spawn(move || {
                let mut mine = Vec::new();
                for _ in 0..150 {
                    let seq = {
                        let mut n = next.lock().expect("lock");
                        *n += 1;
                        wal.append(*n, payload(*n)).expect("append");
                        *n
                    };
                    wal.wait_durable(seq).expect("durable");
                    assert!(wal.durable_seq() >= seq);
                    assert!(wal.synced_seq() >= seq, "Always acknowledged before fdatasync");
                    mine.push(seq);
                }
                mine
            })
        })
        .collect();
    let mut acked = BTreeSet::new();
    for t in threads {
        acked.extend(t.join().expect("thread"));
    }
    assert_eq!(acked.len(), 1200);
    wal.close().expect("close");
    assert!(wal.segments().len() > 1, "16 KiB segments should have rotated");
    drop(wal);

    let (_wal, got, stats) = open_and_replay(dir.path(), opts(16 << 10, SyncPolicy::Always));
    assert_eq!(stats.truncated_bytes, 0);
    assert_eq!(got, expected(acked.iter().copied()));
}

#[test]
fn append_after_close_fails_with_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wal, _, _) = open_and_replay(dir.path(), opts(4096, SyncPolicy::None));
    wal.append(1, payload(1)).expect("append");
    wal.close().expect("close");
    assert!(matches!(wal.append(2, payload(2)), Err(Error::Closed)));
    wal.wait_durable(1).expect("close wrote and synced seq 1");
    wal.sync().expect("sync after a clean close");
    wal.close().expect("second close");
    assert!(matches!(wal.replay(0, |_, _| Ok(())), Err(crate::Error::Wal(Error::AlreadyReplayed))));
}

#[test]
fn misuse_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = Wal::open(dir.path(), opts(4096, SyncPolicy::None)).expect("open");
    assert!(matches!(wal.append(1, vec![]), Err(Error::NotReplayed)));
    wal.replay(0, |_, _| Ok(())).expect("replay");
    wal.append(5, vec![]).expect("append");
    assert!(matches!(wal.append(5, vec![]), Err(Error::SeqNotIncreasing { last: 5, got: 5 })));
    assert!(matches!(wal.wait_durable(6), Err(Error::SeqNotIncreasing { last: 5, got: 6 })));
    let huge = vec![0u8; super::super::format::MAX_RECORD_LEN + 1];
    assert!(matches!(wal.append(6, huge), Err(Error::RecordTooLarge { .. })));
    wal.wait_durable(5).expect("durable");
}

#[test]
fn a_failed_write_poisons_the_log_for_everyone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wal_dir = dir.path().join("wal");
    let (wal, _, _) = open_and_replay(&wal_dir, opts(4096, SyncPolicy::Always));
    std::fs::remove_dir_all(&wal_dir).expect("remove the WAL directory under the writer");
    wal.append(1, payload(1)).expect("append only queues");
    let first = wal.wait_durable(1).expect_err("segment creation must fail");
    let Error::Failed { op, segment, source } = &first else { panic!("expected Failed, got {first:?}") };
    assert_eq!(*op, FailedOp::Create);
    assert!(segment.starts_with(&wal_dir));
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    // Recreating the directory does not help: the log stays poisoned with the original reason.
    std::fs::create_dir_all(&wal_dir).expect("mkdir");
    for err in [wal.append(2, payload(2)).expect_err("append"), wal.sync().expect_err("sync")] {
        assert!(
            matches!(&err, Error::Failed { op: FailedOp::Create, source: s, .. } if Arc::ptr_eq(s, source)),
            "{err:?}"
        );
    }
    assert!(matches!(wal.close(), Err(Error::Failed { op: FailedOp::Create, .. })));
    assert_eq!(wal.durable_seq(), 0);
    assert!(live_numbers(&wal_dir).is_empty());
}

#[test]
fn interval_policy_acks_on_write_and_syncs_on_a_timer_when_idle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let interval = std::time::Duration::from_millis(30);
    let (wal, _, _) = open_and_replay(dir.path(), opts(4096, SyncPolicy::Interval(interval)));
    for seq in 1..=50 {
        wal.append(seq, payload(seq)).expect("append");
    }
    wal.wait_durable(50).expect("written");
    assert_eq!(wal.durable_seq(), 50);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while wal.synced_seq() < 50 {
        assert!(std::time::Instant::now() < deadline, "the idle timer never synced");
        thread::sleep(interval);
    }
    wal.close().expect("close");
    let (_wal, got, _) = open_and_replay(dir.path(), opts(4096, SyncPolicy::Always));
    assert_eq!(got, expected(1..=50));
}

#[test]
fn none_policy_syncs_only_on_request_or_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wal, _, _) = open_and_replay(dir.path(), opts(1 << 20, SyncPolicy::None));
    for seq in 1..=20 {
        wal.append(seq, payload(seq)).expect("append");
    }
    wal.wait_durable(20).expect("written");
    assert_eq!(wal.durable_seq(), 20);
    thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(wal.synced_seq(), 0, "None must not sync on its own");
    wal.sync().expect("sync");
    assert_eq!(wal.synced_seq(), 20);
    wal.close().expect("close");
}
