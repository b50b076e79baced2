//! Corruption anywhere but the torn tail is an error naming file and offset, or skipped on request.

use super::super::{CorruptReason, Error};
use super::*;

fn replay_with(dir: &Path, recovery: WalRecovery) -> (crate::Result<ReplayStats>, Vec<(u64, Vec<u8>)>) {
    let wal = Wal::open(dir, WalOptions { recovery, ..opts(512, SyncPolicy::None) }).expect("open");
    let mut got = Vec::new();
    let result = wal.replay(0, |seq, p| {
        got.push((seq, p.to_vec()));
        Ok(())
    });
    (result, got)
}

fn flip(path: &Path, at: usize, mask: u8) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[at] ^= mask;
    std::fs::write(path, bytes).expect("write");
}

/// A log of 1..=120 in at least three segments, the middle one, and its record offsets.
fn fixture() -> (tempfile::TempDir, SegmentInfo, Vec<(u64, usize)>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let segments = write_log(dir.path(), 1..=120, 512);
    assert!(segments.len() >= 3, "want three segments or more");
    let middle = segments[segments.len() / 2].clone();
    let offsets = record_offsets(seqs_of(&middle));
    assert!(offsets.len() >= 3);
    (dir, middle, offsets)
}

fn assert_corrupt_at(result: crate::Result<ReplayStats>, segment: &Path, offset: usize) {
    match result {
        Err(crate::Error::Wal(Error::Corrupt { segment: s, offset: o, reason })) => {
            assert_eq!((s.as_path(), o), (segment, offset as u64), "reason: {reason}");
        }
        other => panic!("expected Corrupt at {} byte {offset}, got {other:?}", segment.display()),
    }
}

#[test]
fn flipped_payload_byte_in_a_middle_segment_is_reported_with_file_and_offset() {
    let (dir, middle, offsets) = fixture();
    let (bad_seq, at) = offsets[1];
    let seg = path_in(dir.path(), &middle);
    flip(&seg, at + RECORD_HEADER_LEN, 0x01);

    let (result, _) = replay_with(dir.path(), WalRecovery::Strict);
    assert_corrupt_at(result, &seg, at);

    let ((result, got), warnings) = capture_warnings(|| replay_with(dir.path(), WalRecovery::SkipCorrupt));
    let stats = result.expect("skip_corrupt replays");
    assert_eq!(got, expected((1..=120).filter(|&s| s != bad_seq)));
    assert_eq!(stats.skipped_corruptions, 1);
    assert_eq!(stats.truncated_bytes, 0);
    let name = seg.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(warnings.iter().any(|w| w.contains(name) && w.contains(&format!("offset={at} "))), "{warnings:?}");
}

#[test]
fn flipped_length_byte_loses_framing_but_skip_corrupt_resyncs() {
    let (dir, middle, offsets) = fixture();
    let (bad_seq, at) = offsets[1];
    let seg = path_in(dir.path(), &middle);
    flip(&seg, at + 3, 0x80); // length's high byte: an absurd 2 GiB length

    let (result, _) = replay_with(dir.path(), WalRecovery::Strict);
    match result {
        Err(crate::Error::Wal(Error::Corrupt { offset, reason, .. })) => {
            assert_eq!(offset, at as u64);
            assert!(matches!(reason, CorruptReason::LengthTooLarge { .. }), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let (result, got) = replay_with(dir.path(), WalRecovery::SkipCorrupt);
    result.expect("skip_corrupt replays");
    assert_eq!(got, expected((1..=120).filter(|&s| s != bad_seq)));
}

#[test]
fn bad_header_of_a_middle_segment_is_corrupt_and_skip_drops_that_segment() {
    let (dir, middle, _) = fixture();
    let seg = path_in(dir.path(), &middle);
    flip(&seg, 0, 0xff);
    let (result, _) = replay_with(dir.path(), WalRecovery::Strict);
    assert_corrupt_at(result, &seg, 0);
    let (result, got) = replay_with(dir.path(), WalRecovery::SkipCorrupt);
    result.expect("skip_corrupt replays");
    let lost = seqs_of(&middle);
    assert_eq!(got, expected((1..=120).filter(|s| !lost.contains(s))));
}

#[test]
fn corruption_in_the_last_segment_followed_by_valid_records_is_not_a_torn_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let segments = write_log(dir.path(), 1..=120, 512);
    let last = segments.last().expect("segment");
    let offsets = record_offsets(seqs_of(last));
    assert!(offsets.len() >= 2);
    let (bad_seq, at) = offsets[0];
    let seg = path_in(dir.path(), last);
    let len_before = std::fs::metadata(&seg).expect("stat").len();
    flip(&seg, at + 9, 0x04); // inside the seq
    let (result, _) = replay_with(dir.path(), WalRecovery::Strict);
    assert_corrupt_at(result, &seg, at);
    assert_eq!(std::fs::metadata(&seg).expect("stat").len(), len_before, "nothing may be truncated");
    let (result, got) = replay_with(dir.path(), WalRecovery::SkipCorrupt);
    result.expect("skip_corrupt replays");
    assert_eq!(got, expected((1..=120).filter(|&s| s != bad_seq)));
}

#[test]
fn segment_renamed_to_another_number_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let segments = write_log(dir.path(), 1..=120, 512);
    let first = &segments[0];
    let renamed = super::super::segment::segment_path(dir.path(), 0);
    std::fs::rename(path_in(dir.path(), first), &renamed).expect("rename");
    let (result, _) = replay_with(dir.path(), WalRecovery::Strict);
    match result {
        Err(crate::Error::Wal(Error::Corrupt { segment, offset: 0, reason })) => {
            assert_eq!(segment, renamed);
            assert_eq!(reason, CorruptReason::SegmentNumberMismatch { expected: 0, got: first.number });
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
