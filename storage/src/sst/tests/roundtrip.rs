//! Random runs written and read back: whole files, time slices, column subsets, series
//! selectors and chunk statistics, all compared with brute force over the input.

use proptest::prelude::*;

use super::model::{IDS, assert_same, brute_stats, expected, open, runs, write};
use crate::schema::ColumnId;
use crate::selector::{SeriesSelector, TimeRange};

fn config() -> ProptestConfig {
    ProptestConfig { cases: 48, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn everything_written_reads_back_equal(runs in runs(60), page in 3usize..50, splits in 1usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        let info = write(&path, &runs, page, splits);
        let r = open(&path);
        prop_assert_eq!(r.info(), &info);
        prop_assert_eq!(info.rows, runs.iter().map(|r| r.len() as u64).sum::<u64>());
        prop_assert_eq!(info.series, runs.len() as u64);
        prop_assert_eq!(info.min_ts, runs.iter().map(|r| r.ts[0]).min().unwrap());
        prop_assert_eq!(info.max_ts, runs.iter().map(|r| *r.ts.last().unwrap()).max().unwrap());
        prop_assert_eq!(info.min_seq, runs.iter().flat_map(|r| r.seq.iter().copied()).min().unwrap());
        prop_assert_eq!(info.max_seq, runs.iter().flat_map(|r| r.seq.iter().copied()).max().unwrap());
        prop_assert!(r.page_rows().iter().all(|n| *n as usize <= page));
        let entries: Vec<_> = r.series(&SeriesSelector::All).collect();
        prop_assert_eq!(entries.len(), runs.len());
        for (entry, input) in entries.iter().zip(&runs) {
            prop_assert!(r.may_contain(&input.series));
            prop_assert_eq!(r.get(&input.series), Some(entry.clone()));
            let got = r.read(entry, TimeRange::ALL, &IDS).unwrap().unwrap();
            assert_same(&got, &expected(input, &IDS))?;
        }
        let report = r.verify();
        prop_assert!(report.is_ok(), "{:?}", report.problems);
        prop_assert_eq!(report.rows, info.rows);
    }

    #[test]
    fn time_slices_and_column_subsets_equal_the_same_slice_of_the_input(
        runs in runs(60),
        page in 3usize..50,
        from in -1000i64..1500,
        width in 0i64..600,
        ids in proptest::sample::subsequence(vec![1u32, 2, 3, 5, 9, 42], 0..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        write(&path, &runs, page, 2);
        let r = open(&path);
        let range = TimeRange::new(from, from + width);
        for input in &runs {
            let entry = r.get(&input.series).unwrap();
            let want = expected(&input.slice_time(range), &ids);
            match r.read(&entry, range, &ids).unwrap() {
                None => prop_assert!(want.is_empty(), "missing {} rows", want.len()),
                Some(got) => {
                    prop_assert!(!got.is_empty());
                    assert_same(&got, &want)?;
                }
            }
        }
    }

    #[test]
    fn selectors_equal_a_brute_force_filter(
        runs in runs(5),
        a in "[ab]{0,3}",
        b in "[ab]{0,3}",
        kind in 0u8..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        write(&path, &runs, 4, 1);
        let r = open(&path);
        let selector = match kind {
            0 => SeriesSelector::Exact(a.clone()),
            1 => SeriesSelector::Prefix(a.clone()),
            2 => SeriesSelector::Range { start: Some(a.clone()), end: Some(b.clone()) },
            3 => SeriesSelector::Range { start: None, end: Some(b.clone()) },
            _ => SeriesSelector::Range { start: Some(a.clone()), end: None },
        };
        let got: Vec<String> = r.series(&selector).map(|e| e.key.to_string()).collect();
        let want: Vec<String> =
            runs.iter().map(|r| r.series.to_string()).filter(|k| selector.matches(k)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn chunk_statistics_equal_brute_force(runs in runs(60), page in 3usize..50, splits in 1usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sst");
        write(&path, &runs, page, splits);
        let r = open(&path);
        for input in &runs {
            let entry = r.get(&input.series).unwrap();
            let chunks = r.chunks(&entry);
            prop_assert_eq!(chunks.iter().map(|c| u64::from(c.rows)).sum::<u64>(), input.len() as u64);
            prop_assert!(chunks.len() <= input.len().div_ceil(page) + 1);
            for chunk in chunks {
                let part = input.slice_time(TimeRange::new(chunk.min_ts, chunk.max_ts + 1));
                prop_assert_eq!(part.len(), chunk.rows as usize);
                prop_assert_eq!(chunk.min_seq, part.seq.iter().copied().min().unwrap());
                prop_assert_eq!(chunk.max_seq, part.seq.iter().copied().max().unwrap());
                for id in IDS {
                    let want = brute_stats(part.column_or_null(id, super::model::type_of(id)).as_ref());
                    let got = r.chunk_stats(chunk, id).unwrap();
                    prop_assert!(got.same_as(&want), "column {}: {:?} vs {:?}", id, got, want);
                }
                let read = r.read_chunk(&entry, chunk, &[1, 2, 3, 5]).unwrap();
                assert_same(&read, &super::model::expected(&part, &[1, 2, 3, 5]))?;
            }
        }
    }
}

#[test]
fn reading_twice_hits_the_cache_and_skipped_columns_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sst");
    let runs = proptest::strategy::ValueTree::current(
        &proptest::strategy::Strategy::new_tree(&runs(30), &mut proptest::test_runner::TestRunner::deterministic())
            .unwrap(),
    );
    write(&path, &runs, 8, 1);
    let r = open(&path);
    let entry = r.series(&SeriesSelector::All).next().unwrap();
    let only: [ColumnId; 1] = [9]; // never written: all null, answered from statistics
    r.read(&entry, TimeRange::ALL, &only).unwrap().unwrap();
    let after_first = r.cache.stats();
    assert_eq!(after_first.hits, 0);
    assert_eq!(after_first.entries, 2 * r.chunks(&entry).len(), "only ts and seq blocks are read");
    r.read(&entry, TimeRange::ALL, &only).unwrap().unwrap();
    let after_second = r.cache.stats();
    assert_eq!(after_second.misses, after_first.misses);
    assert!(after_second.hits > after_first.hits);
}
