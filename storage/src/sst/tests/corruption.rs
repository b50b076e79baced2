//! Damaged files: every damaged byte is reported as an error naming the file (and the block,
//! for data blocks), never returned as data and never a panic.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use proptest::prelude::*;

use super::model::{IDS, assert_same, open, write};
use crate::run::Run;
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{BlockCache, BlockColumn, BlockRef, Error, FORMAT_VERSION, Footer, SstReader};

const PAGE: usize = 10;

/// Three series of exactly one page each, every column filled: page `p` holds series `s{p}`.
fn sample(path: &Path) {
    let runs: Vec<Run> = (0..3)
        .map(|s| {
            let n = PAGE as i64;
            let col = |a: ArrayRef| a;
            Run {
                series: format!("s{s}").into(),
                ts: (0..n).map(|i| i * 10).collect::<Vec<_>>().into(),
                seq: (0..n as u64).collect::<Vec<_>>().into(),
                columns: vec![
                    (1, col(Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64))))),
                    (2, col(Arc::new(Int64Array::from_iter_values(0..n)))),
                    (3, col(Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))))),
                    (5, col(Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("v{i}")))))),
                ],
            }
        })
        .collect();
    write(path, &runs, PAGE, 1);
}

fn flip(path: &Path, at: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at as usize] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

fn try_open(path: &Path) -> Result<SstReader, Error> {
    SstReader::open(path, 2, Arc::new(BlockCache::new(1 << 20)))
}

#[test]
fn a_flipped_data_byte_names_file_and_block_and_spares_other_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    sample(&path);
    let (handle, block) = open(&path).block_ref(1, 3); // page 1, column 2 (second in the schema)
    assert_eq!(
        block,
        BlockRef::Data {
            block: 7 + 3, // page 1 of 7 blocks per page, slot 3
            page: 1,
            column: BlockColumn::Column(2)
        }
    );
    flip(&path, handle.offset + 2);

    let r = try_open(&path).expect("data damage is found when the block is read, not at open");
    let s1 = r.get("s1").unwrap();
    match r.read(&s1, TimeRange::ALL, &[2]) {
        Err(Error::Corrupt { file, block: b, offset, .. }) => {
            assert_eq!(file, path);
            assert_eq!(b, block);
            assert_eq!(offset, handle.offset);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = r.read(&s1, TimeRange::ALL, &[2]).unwrap_err().to_string();
    assert!(msg.contains("t.sst") && msg.contains("data block 10 (page 1, column 2)"), "{msg}");
    assert_eq!(r.read(&s1, TimeRange::ALL, &[1, 3, 5]).unwrap().unwrap().len(), PAGE);
    for key in ["s0", "s2"] {
        let e = r.get(key).unwrap();
        assert_eq!(r.read(&e, TimeRange::ALL, &IDS).unwrap().unwrap().len(), PAGE);
    }
    let report = r.verify();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(matches!(&report.problems[0], Error::Corrupt { block: b, .. } if *b == block));
    assert_eq!(report.blocks, 3 * 7);
}

#[test]
fn every_flipped_byte_of_index_filter_meta_and_footer_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    sample(&path);
    let good = std::fs::read(&path).unwrap();
    let start = open(&path).footer().index.offset;
    for at in start..good.len() as u64 {
        flip(&path, at);
        let err = try_open(&path).err();
        // A flip in the version field reads as a version this build does not know.
        let named = |e: &Error| match e {
            Error::Corrupt { file, .. } | Error::UnsupportedVersion { file, .. } => *file == path,
            _ => false,
        };
        assert!(err.as_ref().is_some_and(named), "flip at {at}: {err:?}");
        std::fs::write(&path, &good).unwrap();
    }
}

#[test]
fn truncated_files_fail_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    sample(&path);
    let good = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.sst");
    for len in (0..good.len()).step_by(5).chain([good.len() - 1]) {
        std::fs::write(&cut, &good[..len]).unwrap();
        assert!(try_open(&cut).is_err(), "a file cut to {len} of {} bytes opened", good.len());
    }
}

#[test]
fn an_unknown_version_is_reported_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 64;
    let footer = Footer { version: FORMAT_VERSION + 1, ..*open(&path).footer() };
    bytes[at..].copy_from_slice(&footer.encode());
    std::fs::write(&path, bytes).unwrap();
    match try_open(&path) {
        Err(Error::UnsupportedVersion { file, found: 2, supported: 1 }) => assert_eq!(file, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_open_and_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..3000), magic: bool) {
        if magic && bytes.len() >= 12 {
            let n = bytes.len();
            bytes[n - 8..].copy_from_slice(b"ISOBARST");
            bytes[n - 12..n - 10].copy_from_slice(&1u16.to_le_bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sst");
        std::fs::write(&path, &bytes).unwrap();
        prop_assert!(try_open(&path).is_err());
    }

    #[test]
    fn any_damaged_byte_is_detected_somewhere(at in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        sample(&path);
        let clean = open(&path);
        let want: Vec<Run> = clean
            .series(&SeriesSelector::All)
            .map(|e| clean.read(&e, TimeRange::ALL, &IDS).unwrap().unwrap())
            .collect();
        let mut bytes = std::fs::read(&path).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        std::fs::write(&path, &bytes).unwrap();
        let Ok(r) = try_open(&path) else { return Ok(()) };
        prop_assert!(!r.verify().is_ok(), "damage at byte {} went unnoticed", i);
        // Every read either fails as corrupt or returns exactly the undamaged rows (it did not
        // need the damaged block: an all-null column is answered from the statistics).
        let entries: Vec<_> = r.series(&SeriesSelector::All).collect();
        prop_assert_eq!(entries.len(), want.len());
        for (e, want) in entries.iter().zip(&want) {
            match r.read(e, TimeRange::ALL, &IDS) {
                Ok(got) => assert_same(&got.unwrap(), want)?,
                Err(err) => prop_assert!(err.is_corrupt(), "{}", err),
            }
        }
    }
}
