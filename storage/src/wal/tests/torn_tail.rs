//! A crash mid-append leaves a torn last record: replay cuts it off, warns, and the log goes on.

use super::*;

/// Replays `dir` (whose last segment was damaged), checks that `want` comes back with a warning
/// naming the segment and offset, then appends one more record and checks a second replay.
fn assert_recovers(dir: &Path, want: &[(u64, Vec<u8>)], last_seg: &Path, cut_at: usize, what: &str) {
    let ((wal, got, stats), warnings) = capture_warnings(|| open_and_replay(dir, opts(512, SyncPolicy::None)));
    assert_eq!(got, want, "{what}");
    assert!(stats.truncated_bytes > 0, "{what}: nothing truncated");
    let name = last_seg.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        warnings.iter().any(|w| w.contains(name) && w.contains(&format!("offset={cut_at} "))),
        "{what}: no warning naming {name} at {cut_at}: {warnings:?}"
    );
    assert_eq!(std::fs::metadata(last_seg).expect("stat").len(), cut_at as u64, "{what}");

    let next = want.last().map_or(1, |(s, _)| s + 1);
    wal.append(next, payload(next)).expect("append after torn tail");
    wal.close().expect("close");
    let ((_wal, again, stats), warnings) = capture_warnings(|| open_and_replay(dir, opts(512, SyncPolicy::None)));
    let mut want = want.to_vec();
    want.push((next, payload(next)));
    assert_eq!(again, want, "{what}: second replay");
    assert_eq!(stats.truncated_bytes, 0, "{what}: second replay truncated again");
    assert!(warnings.is_empty(), "{what}: second replay warned: {warnings:?}");
}

#[test]
fn torn_last_record_is_truncated_at_every_byte_offset() {
    // Several last-record lengths (payload(s) has s % 40 + 1 bytes).
    for last in [40u64, 47, 79] {
        let fixture = tempfile::tempdir().expect("tempdir");
        let segments = write_log(fixture.path(), 1..=last, 512);
        assert!(segments.len() >= 2, "want several segments");
        let tail = segments.last().expect("segment");
        let offsets = record_offsets(seqs_of(tail));
        let &(seq, start) = offsets.last().expect("record");
        assert_eq!(seq, last);
        let end = start + RECORD_HEADER_LEN + payload(last).len();
        assert_eq!(tail.size, end as u64);
        for cut in start + 1..end {
            let dir = copy_dir(fixture.path());
            let seg = path_in(dir.path(), tail);
            let file = std::fs::OpenOptions::new().write(true).open(&seg).expect("open");
            file.set_len(cut as u64).expect("truncate");
            drop(file);
            assert_recovers(dir.path(), &expected(1..last), &seg, start, &format!("last={last} cut={cut}"));
        }
    }
}

#[test]
fn checksum_failing_last_records_are_truncated() {
    let fixture = tempfile::tempdir().expect("tempdir");
    let segments = write_log(fixture.path(), 1..=60, 512);
    let tail = segments.last().expect("segment");
    let offsets = record_offsets(seqs_of(tail));
    // Damage the last record, then the last two (a torn multi-record write), then a zero-filled
    // tail after the last good record.
    let n = offsets.len();
    assert!(n >= 3);
    for damaged in [1usize, 2] {
        let (first_bad_seq, first_bad) = offsets[n - damaged];
        let dir = copy_dir(fixture.path());
        let seg = path_in(dir.path(), tail);
        let mut bytes = std::fs::read(&seg).expect("read");
        for &(_, at) in &offsets[n - damaged..] {
            bytes[at + RECORD_HEADER_LEN - 1] ^= 0x40;
        }
        std::fs::write(&seg, &bytes).expect("write");
        assert_recovers(dir.path(), &expected(1..first_bad_seq), &seg, first_bad, "flipped tail");
    }
    let dir = copy_dir(fixture.path());
    let seg = path_in(dir.path(), tail);
    let mut bytes = std::fs::read(&seg).expect("read");
    let good_end = bytes.len();
    bytes.extend_from_slice(&[0u8; 300]);
    std::fs::write(&seg, &bytes).expect("write");
    assert_recovers(dir.path(), &expected(1..=60), &seg, good_end, "zero-filled tail");
}

#[test]
fn torn_header_of_a_new_last_segment_is_removed() {
    let fixture = tempfile::tempdir().expect("tempdir");
    let segments = write_log(fixture.path(), 1..=30, 512);
    let next = segments.last().expect("segment").number + 1;
    for len in [0usize, 5, SEGMENT_HEADER_LEN - 1] {
        let dir = copy_dir(fixture.path());
        let torn = super::super::segment::segment_path(dir.path(), next);
        std::fs::write(&torn, vec![0u8; len]).expect("write");
        let ((wal, got, stats), warnings) =
            capture_warnings(|| open_and_replay(dir.path(), opts(512, SyncPolicy::None)));
        assert_eq!(got, expected(1..=30));
        assert_eq!(stats.truncated_bytes, len as u64);
        assert!(!torn.exists(), "torn segment of {len} bytes was not removed");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        wal.append(31, payload(31)).expect("append");
        wal.close().expect("close");
        let (_wal, again, _) = open_and_replay(dir.path(), opts(512, SyncPolicy::None));
        assert_eq!(again, expected(1..=31));
    }
}
