//! Queue behaviour: recovery, the ack cursor, both full policies, and a really full disk.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

fn opts(max_bytes: u64, segment_bytes: u64, policy: FullPolicy) -> QueueOptions {
    QueueOptions { max_bytes, segment_bytes, policy, fsync: true }
}

fn payload(i: u64, size: usize) -> Vec<u8> {
    let mut v = i.to_le_bytes().to_vec();
    v.resize(size, (i % 251) as u8);
    v
}

fn all_after(q: &Queue, after: u64) -> Vec<Record> {
    let mut out = Vec::new();
    let mut at = after;
    while let Some(r) = q.next_after(at, Duration::ZERO).expect("read") {
        at = r.seq;
        out.push(r);
    }
    out
}

fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "q"))
        .collect();
    v.sort();
    v
}

#[test]
fn records_read_back_in_order_with_their_checkpoints() {
    let dir = tempfile::tempdir().expect("tmp");
    let q = Queue::open(dir.path(), QueueOptions::default()).expect("open");
    let ck = Checkpoint { source: "csv".into(), file_id: 9, offset: 100 };
    assert_eq!(q.append(payload(1, 10), vec![ck.clone()]).expect("append"), 1);
    assert_eq!(q.append(payload(2, 10), vec![]).expect("append"), 2);
    let got = all_after(&q, 0);
    assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(got[0].checkpoints, vec![ck]);
    assert_eq!(got[1].request, payload(2, 10));
    assert_eq!(q.checkpoint("csv"), Some((9, 100)));
}

#[test]
fn torn_tail_is_cut_and_counted_and_appends_continue() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let q = Queue::open(dir.path(), QueueOptions::default()).expect("open");
        for i in 1..=3 {
            q.append(payload(i, 100), vec![]).expect("append");
        }
    }
    let seg = segments(dir.path()).pop().expect("a segment");
    let good_len = fs::metadata(&seg).expect("meta").len();
    // Half a frame: a length announcing 100 bytes, a checksum, then only 10 bytes.
    let mut f = fs::OpenOptions::new().append(true).open(&seg).expect("open seg");
    f.write_all(&100u32.to_le_bytes()).and_then(|()| f.write_all(&[7; 14])).expect("write");
    drop(f);
    let q = Queue::open(dir.path(), QueueOptions::default()).expect("reopen");
    assert_eq!(fs::metadata(&seg).expect("meta").len(), good_len, "the torn frame is cut off");
    assert_eq!(q.stats().corrupt_frames, 1);
    assert_eq!(all_after(&q, 0).len(), 3);
    assert_eq!(q.append(payload(4, 100), vec![]).expect("append"), 4);
    assert_eq!(all_after(&q, 3)[0].request, payload(4, 100));
}

#[test]
fn corrupt_frame_cuts_the_rest_of_its_segment_only() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let q = Queue::open(dir.path(), opts(1 << 20, 300, FullPolicy::Block)).expect("open");
        for i in 1..=6 {
            q.append(payload(i, 100), vec![]).expect("append");
        }
    }
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "small segments roll: {segs:?}");
    // Flip a payload byte of the first record of the first segment.
    let mut bytes = fs::read(&segs[0]).expect("read");
    bytes[MAGIC_LEN + 20] ^= 0xff;
    fs::write(&segs[0], &bytes).expect("write");
    let q = Queue::open(dir.path(), opts(1 << 20, 300, FullPolicy::Block)).expect("reopen");
    let seqs: Vec<u64> = all_after(&q, 0).iter().map(|r| r.seq).collect();
    assert!(!seqs.contains(&1), "the corrupt record is gone");
    assert_eq!(seqs.last(), Some(&6), "later segments are intact: {seqs:?}");
    assert_eq!(q.stats().corrupt_frames, 1);
}

const MAGIC_LEN: usize = 8;

#[test]
fn crash_between_append_and_cursor_write_offers_the_records_again() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let q = Queue::open(dir.path(), QueueOptions::default()).expect("open");
        for i in 1..=5 {
            q.append(payload(i, 10), vec![]).expect("append");
        }
        q.ack(2).expect("ack");
        // "Crash": records 3..=5 were sent and maybe applied, but no ack was recorded.
    }
    let q = Queue::open(dir.path(), QueueOptions::default()).expect("reopen");
    assert_eq!(q.stats().acked_seq, 2);
    assert_eq!(all_after(&q, 2).iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
    assert_eq!(q.append(payload(6, 10), vec![]).expect("append"), 6, "numbering continues");
}

#[test]
fn acked_segments_are_deleted_and_numbering_and_checkpoints_survive() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let q = Queue::open(dir.path(), opts(1 << 20, 200, FullPolicy::Block)).expect("open");
        for i in 1..=4 {
            let ck = Checkpoint { source: "f".into(), file_id: 1, offset: i * 10 };
            q.append(payload(i, 100), vec![ck]).expect("append");
        }
        q.ack(4).expect("ack");
        assert!(segments(dir.path()).is_empty(), "every segment is acknowledged");
        assert_eq!(q.stats().queued_bytes, 0);
    }
    let q = Queue::open(dir.path(), opts(1 << 20, 200, FullPolicy::Block)).expect("reopen");
    assert_eq!(q.checkpoint("f"), Some((1, 40)));
    assert_eq!(q.append(payload(5, 10), vec![]).expect("append"), 5);
}

#[test]
fn drop_oldest_deletes_the_oldest_segment_and_counts_its_records() {
    let dir = tempfile::tempdir().expect("tmp");
    let q = Queue::open(dir.path(), opts(2000, 500, FullPolicy::DropOldest)).expect("open");
    for i in 1..=40 {
        q.append(payload(i, 100), vec![]).expect("append never blocks");
        assert!(q.stats().queued_bytes <= 2000);
    }
    let stats = q.stats();
    let left: Vec<u64> = all_after(&q, 0).iter().map(|r| r.seq).collect();
    assert_eq!(stats.dropped_records + left.len() as u64, 40, "every record is either kept or counted");
    assert!(stats.dropped_records > 0);
    assert_eq!(left.last(), Some(&40), "the newest records are kept");
    drop(q);
    let q = Queue::open(dir.path(), opts(2000, 500, FullPolicy::DropOldest)).expect("reopen");
    assert_eq!(q.stats().dropped_records, stats.dropped_records, "the counter is durable");
    assert_eq!(q.append(payload(41, 10), vec![]).expect("append"), 41);
}

#[test]
fn block_waits_for_acks_and_gives_up_at_a_deadline_without_writing() {
    let dir = tempfile::tempdir().expect("tmp");
    let q = Arc::new(Queue::open(dir.path(), opts(1000, 300, FullPolicy::Block)).expect("open"));
    let mut n = 0;
    while q.append_until(payload(n + 1, 100), vec![], Some(Instant::now())).is_ok() {
        n += 1;
    }
    assert!(n >= 3);
    let before = q.stats();
    let err = q.append_until(payload(99, 100), vec![], Some(Instant::now() + Duration::from_millis(20)));
    assert!(matches!(err, Err(QueueError::Full { .. })), "{err:?}");
    assert_eq!(q.stats(), before, "a refused append changes nothing");
    let (tx, rx) = std::sync::mpsc::channel();
    let q2 = Arc::clone(&q);
    let t = std::thread::spawn(move || tx.send(q2.append(payload(100, 100), vec![])).expect("send"));
    q.ack(n).expect("ack frees the segments");
    let seq = rx.recv().expect("the blocked append returns").expect("append");
    t.join().expect("join");
    assert_eq!(seq, n + 1);
    assert_eq!(q.stats().dropped_records, 0, "block never drops");
}

#[test]
fn too_large_record_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let q = Queue::open(dir.path(), opts(100, 100, FullPolicy::DropOldest)).expect("open");
    assert!(matches!(q.append(payload(1, 200), vec![]), Err(QueueError::TooLarge { .. })));
    assert_eq!(q.stats().last_seq, 0);
}

#[test]
fn full_disk_applies_the_policy_and_leaves_nothing_corrupt() {
    let outer = tempfile::tempdir().expect("tmp");
    let Some(_mount) = isobar_testkit::tmpfs::mount_or_skip(outer.path(), "4m") else { return };
    let dir = outer.path().join("q");
    // The byte bound (64 MiB) is far above the disk (4 MiB): the disk fills first.
    let big = opts(64 << 20, 512 << 10, FullPolicy::DropOldest);
    {
        let q = Queue::open(&dir, big.clone()).expect("open");
        for i in 1..=200 {
            q.append(payload(i, 50_000), vec![]).expect("drop_oldest makes room on a full disk");
        }
        let stats = q.stats();
        assert!(stats.dropped_records > 0, "{stats:?}");
        assert_eq!(stats.dropped_records + all_after(&q, 0).len() as u64, 200);
    }
    let q = Queue::open(&dir, big).expect("reopen");
    assert_eq!(q.stats().corrupt_frames, 0, "nothing torn by the full disk");
    let records = all_after(&q, 0);
    assert!(records.iter().all(|r| r.request == payload(r.seq, 50_000)));
    drop(q);
    // Under `block`, a full disk waits; at the deadline the append fails and nothing changes.
    let block = opts(64 << 20, 512 << 10, FullPolicy::Block);
    let q = Queue::open(&dir, block.clone()).expect("reopen");
    let mut last = q.stats().last_seq;
    let err = loop {
        match q.append_until(payload(last + 1, 50_000), vec![], Some(Instant::now() + Duration::from_millis(10))) {
            Ok(seq) => last = seq,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, QueueError::Full { .. }), "{err}");
    drop(q);
    let q = Queue::open(&dir, block).expect("reopen");
    assert_eq!(q.stats().corrupt_frames, 0);
    assert_eq!(q.stats().last_seq, last);
    assert!(all_after(&q, 0).iter().all(|r| r.request == payload(r.seq, 50_000)));
}

#[test]
fn one_agent_per_queue_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!in_use(dir.path()), "a new directory is not in use");
    let q = Queue::open(dir.path(), opts(1 << 20, 1 << 16, FullPolicy::Block)).unwrap();
    assert!(in_use(dir.path()), "an open queue holds its LOCK");
    let second = Queue::open(dir.path(), opts(1 << 20, 1 << 16, FullPolicy::Block));
    let Err(err) = second else { panic!("a second open of the same directory is refused") };
    let err = err.to_string();
    assert!(err.contains("in use by another running agent"), "{err}");
    drop(q);
    assert!(!in_use(dir.path()), "closing the queue releases its LOCK");
    Queue::open(dir.path(), opts(1 << 20, 1 << 16, FullPolicy::Block)).expect("opens again after the first closed");
}
