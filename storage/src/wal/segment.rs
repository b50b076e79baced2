//! Segment file naming, directory listing and the in-memory list of live segments.
//!
//! A segment is `dir/NNNNNNNNNNNNNNNNNNNN.wal`: its number, zero-padded to 20 digits so that
//! names sort like numbers. Numbers only grow; a reopened WAL starts a new segment after the
//! highest one present. Files in the directory that do not match this pattern are ignored.

use std::path::{Path, PathBuf};

use super::error::Error;
use crate::fs::FileSystem;

/// File extension of WAL segments.
pub(super) const SEGMENT_EXT: &str = "wal";

/// The file name of segment `number`.
pub fn segment_file_name(number: u64) -> String {
    format!("{number:020}.{SEGMENT_EXT}")
}

/// The path of segment `number` in `dir`.
pub(super) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(segment_file_name(number))
}

/// Parses a segment file name back to its number; `None` for any other file.
pub(super) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segment numbers present in `dir`, ascending.
pub(super) fn list_segments(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<u64>, Error> {
    let mut numbers = Vec::new();
    for path in fs.read_dir(dir).map_err(|e| Error::io(dir, e))? {
        if let Some(n) = path.file_name().and_then(|n| n.to_str()).and_then(parse_segment_file_name) {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Size and identity of one live segment, as reported by [`Wal::segments`](super::Wal::segments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Segment number.
    pub number: u64,
    /// Full path of the file.
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    /// Seq of the first record, when known (from the header).
    pub first_seq: Option<u64>,
    /// Seq of the last record, when the segment holds any (for the active segment, the last one
    /// written so far).
    pub last_seq: Option<u64>,
    /// True for the segment the writer appends to.
    pub active: bool,
}

/// The live segments in ascending order; shared by the handle (listing, deleting) and the writer
/// thread (adding, growing, closing).
#[derive(Debug, Default)]
pub(super) struct SegmentList {
    segments: Vec<SegmentInfo>,
}

impl SegmentList {
    /// Adds a segment at the end (numbers only grow).
    pub(super) fn push(&mut self, info: SegmentInfo) {
        self.segments.push(info);
    }

    /// A copy of the list.
    pub(super) fn infos(&self) -> Vec<SegmentInfo> {
        self.segments.clone()
    }

    /// The active segment, if the writer has created one.
    pub(super) fn active_mut(&mut self) -> Option<&mut SegmentInfo> {
        self.segments.last_mut().filter(|s| s.active)
    }

    /// Marks the active segment closed, holding records up to `seq` at most (after a failure the
    /// writer no longer knows exactly what reached it; `seq` bounds it from above).
    pub(super) fn retire_active(&mut self, seq: u64) {
        if let Some(info) = self.active_mut() {
            info.active = false;
            info.last_seq = Some(info.last_seq.map_or(seq, |last| last.max(seq)));
        }
    }

    /// True when `number` is a live segment.
    pub(super) fn contains(&self, number: u64) -> bool {
        self.segments.iter().any(|s| s.number == number)
    }

    /// The highest segment number in the list.
    pub(super) fn max_number(&self) -> Option<u64> {
        self.segments.iter().map(|s| s.number).max()
    }

    /// Removes and returns the closed segments whose records all have seq `<= seq`.
    pub(super) fn take_obsolete(&mut self, seq: u64) -> Vec<SegmentInfo> {
        let (obsolete, keep) = std::mem::take(&mut self.segments)
            .into_iter()
            .partition(|s| !s.active && s.last_seq.is_none_or(|last| last <= seq));
        self.segments = keep;
        obsolete
    }

    /// Puts back segments that could not be deleted, keeping the order.
    pub(super) fn restore(&mut self, mut back: Vec<SegmentInfo>) {
        self.segments.append(&mut back);
        self.segments.sort_by_key(|s| s.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_numerically() {
        assert_eq!(segment_file_name(42), "00000000000000000042.wal");
        assert_eq!(parse_segment_file_name(&segment_file_name(u64::MAX)), Some(u64::MAX));
        assert!(segment_file_name(9) < segment_file_name(10));
        for bad in ["42.wal", "0000000000000000004x.wal", "00000000000000000042.tmp", ""] {
            assert_eq!(parse_segment_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn obsolete_segments_are_closed_and_fully_below() {
        let seg = |number, last_seq, active| SegmentInfo {
            number,
            path: PathBuf::from(segment_file_name(number)),
            size: 0,
            first_seq: None,
            last_seq,
            active,
        };
        let mut list = SegmentList::default();
        list.push(seg(1, Some(10), false));
        list.push(seg(2, None, false));
        list.push(seg(3, Some(20), false));
        list.push(seg(4, Some(25), true));
        let gone: Vec<u64> = list.take_obsolete(19).iter().map(|s| s.number).collect();
        assert_eq!(gone, vec![1, 2]);
        let gone: Vec<u64> = list.take_obsolete(u64::MAX).iter().map(|s| s.number).collect();
        assert_eq!(gone, vec![3]);
        assert_eq!(list.infos().len(), 1);
    }
}
