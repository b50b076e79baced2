//! Random bytes as segment files never panic recovery.

use proptest::prelude::*;

use super::super::format::SegmentHeader;
use super::super::segment::segment_path;
use super::*;

/// Replays `dir` under `recovery`; checks the callback saw exactly what the stats report.
fn replay_garbage(dir: &Path, recovery: WalRecovery, after: u64) -> Result<(), TestCaseError> {
    let wal = Wal::open(dir, WalOptions { recovery, ..opts(1 << 20, SyncPolicy::None) })
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut seen = 0u64;
    let mut below = 0u64;
    let result = wal.replay(after, |seq, _| {
        seen += 1;
        if seq <= after {
            below += 1;
        }
        Ok(())
    });
    prop_assert_eq!(below, 0, "records at or below after_seq were handed over");
    if let Ok(stats) = result {
        prop_assert_eq!(stats.records, seen);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_segment_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for recovery in [WalRecovery::Strict, WalRecovery::SkipCorrupt] {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(segment_path(dir.path(), 1), &bytes).expect("write");
            std::fs::write(segment_path(dir.path(), 2), &bytes).expect("write");
            replay_garbage(dir.path(), recovery, 0)?;
        }
    }

    #[test]
    fn garbage_after_a_valid_header_never_panics(
        first_seq in 0u64..4,
        after in 0u64..3,
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        records in proptest::collection::vec((1u64..3, proptest::collection::vec(any::<u8>(), 0..64)), 0..8),
    ) {
        // A valid header, some valid records with random gaps, then random bytes.
        let mut bytes = Vec::new();
        SegmentHeader { number: 1, first_seq }.encode(&mut bytes);
        let mut seq = first_seq;
        for (gap, payload) in &records {
            super::super::format::encode_record(&mut bytes, seq, payload);
            seq += gap;
        }
        bytes.extend_from_slice(&body);
        for recovery in [WalRecovery::Strict, WalRecovery::SkipCorrupt] {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(segment_path(dir.path(), 1), &bytes).expect("write");
            std::fs::write(segment_path(dir.path(), 2), &bytes).expect("write");
            replay_garbage(dir.path(), recovery, after)?;
        }
    }
}
