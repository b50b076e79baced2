//! Records come back as written, across segments and reopens, filtered by seq.

use super::*;

#[test]
fn records_round_trip_across_segments_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let segments = write_log(dir.path(), 1..=300, 1024);
    assert!(segments.len() >= 4, "expected several segments, got {}", segments.len());
    for pair in segments.windows(2) {
        assert_eq!(pair[1].number, pair[0].number + 1);
        assert_eq!(pair[1].first_seq, pair[0].last_seq.map(|s| s + 1));
    }
    for info in &segments[..segments.len() - 1] {
        assert!(info.size >= 1024, "closed segment {} is only {} bytes", info.number, info.size);
    }

    let (wal, got, stats) = open_and_replay(dir.path(), opts(1024, SyncPolicy::Always));
    assert_eq!(got, expected(1..=300));
    assert_eq!(stats.records, 300);
    assert_eq!(stats.last_seq, Some(300));
    assert_eq!(stats.truncated_bytes, 0);
    assert_eq!(stats.segments, segments.len());
    assert_eq!(stats.bytes, (1..=300).map(|s| payload(s).len() as u64).sum::<u64>());

    // A second session appends to a new segment; a third replay sees both sessions.
    for seq in 301..=320 {
        wal.append(seq, payload(seq)).expect("append");
    }
    wal.wait_durable(320).expect("durable");
    assert_eq!(wal.durable_seq(), 320);
    let live = wal.segments();
    let active = live.last().expect("active segment");
    assert!(active.active);
    assert!(active.number > segments.last().expect("segment").number);
    assert_eq!(active.first_seq, Some(301));
    wal.close().expect("close");

    let (_wal, got, _) = open_and_replay(dir.path(), opts(1024, SyncPolicy::Always));
    assert_eq!(got, expected(1..=320));
}

#[test]
fn replay_returns_only_records_after_the_given_seq() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_log(dir.path(), (10..=400).step_by(3), 2048);
    for after in [0, 9, 10, 11, 200, 399, 400, 1000] {
        let wal = Wal::open(dir.path(), opts(2048, SyncPolicy::None)).expect("open");
        let mut got = Vec::new();
        let stats = wal
            .replay(after, |seq, p| {
                got.push((seq, p.to_vec()));
                Ok(())
            })
            .expect("replay");
        let want = expected((10..=400).step_by(3).filter(|&s| s > after));
        assert_eq!(got, want, "after {after}");
        assert_eq!(stats.records, want.len() as u64);
        assert_eq!(stats.last_seq, Some(400), "last seq seen ignores the filter");
        // Appends must go above both the filter and what was seen.
        let err = wal.append(400, vec![1]).expect_err("seq 400 was already seen");
        assert!(matches!(err, Error::SeqNotIncreasing { last, got: 400 } if last == after.max(400)));
        drop(wal);
        // Dropping the handle after a replay leaves no new segment behind.
        let (wal2, again, _) = open_and_replay(dir.path(), opts(2048, SyncPolicy::None));
        assert_eq!(again.len(), (10..=400).step_by(3).count());
        drop(wal2);
    }
}

#[test]
fn a_callback_error_stops_replay_and_is_returned() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_log(dir.path(), 1..=50, 4096);
    let wal = Wal::open(dir.path(), opts(4096, SyncPolicy::None)).expect("open");
    let mut seen = 0;
    let err = wal
        .replay(0, |seq, _| {
            seen += 1;
            if seq == 20 { Err(crate::Error::Closed) } else { Ok(()) }
        })
        .expect_err("callback fails");
    assert!(matches!(err, crate::Error::Closed));
    assert_eq!(seen, 20);
    assert!(matches!(wal.append(51, vec![]), Err(Error::NotReplayed)));
}

use super::super::Error;
