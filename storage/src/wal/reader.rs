//! Record-by-record scanning of one segment's bytes, with corruption detection and resync.
//!
//! [`SegmentScan`] is pure: it walks a segment already read into memory and yields records or
//! corruption reports; deciding what a corruption means (torn tail, error, skip) and touching
//! files is [`replay`](super::replay)'s job.
//!
//! After a bad record the scanner looks for the next valid record further on ("resync"): at each
//! later byte offset it tries a record whose length fits in the file, whose seq lies above the
//! last good seq (and less than 2^40 beyond it, a cheap filter that keeps the scan linear on
//! garbage), and whose checksum matches. Whether such a record exists is what separates a torn
//! tail (nothing valid follows) from corruption in the middle of the log (something does).

use super::error::{CorruptReason, SeqExpectation};
use super::format::{RECORD_HEADER_LEN, RecordRef, SEGMENT_HEADER_LEN, decode_record};

/// How far above the last good seq a resync candidate may be.
const RESYNC_SEQ_WINDOW: u64 = 1 << 40;

/// One step of a scan.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step<'a> {
    /// A valid record.
    Record(RecordRef<'a>),
    /// The bytes at `offset` are not a valid record.
    Corrupt {
        /// Offset of the bad record in the file.
        offset: usize,
        /// What was wrong.
        reason: CorruptReason,
        /// Offset of the next valid record, if any; `None` means nothing valid follows.
        resume: Option<usize>,
    },
    /// The end of the segment.
    End,
}

/// A cursor over the records of one segment, after its header.
#[derive(Debug)]
pub(super) struct SegmentScan<'a> {
    buf: &'a [u8],
    pos: usize,
    expect: SeqExpectation,
}

impl<'a> SegmentScan<'a> {
    /// A scan of `buf` (the whole segment file) whose header says the first record is
    /// `first_seq`.
    pub(super) fn new(buf: &'a [u8], first_seq: u64) -> Self {
        Self { buf, pos: SEGMENT_HEADER_LEN, expect: SeqExpectation::Equal(first_seq) }
    }

    /// Moves to `offset` (a `resume` offset from a [`Step::Corrupt`]); the record found there
    /// becomes the expected next one.
    pub(super) fn resume_at(&mut self, offset: usize) {
        self.pos = offset;
        if let Ok(rec) = decode_record(self.buf, offset) {
            self.expect = SeqExpectation::Equal(rec.seq);
        }
    }

    /// Reads the next step. After [`Step::Corrupt`] the scan stays at the bad offset until the
    /// caller calls [`resume_at`](Self::resume_at) or stops.
    pub(super) fn next_step(&mut self) -> Step<'a> {
        if self.pos >= self.buf.len() {
            return Step::End;
        }
        let reason = match decode_record(self.buf, self.pos) {
            Ok(rec) if self.seq_ok(rec.seq) => {
                self.pos = rec.end;
                self.expect = SeqExpectation::Above(rec.seq);
                return Step::Record(rec);
            }
            Ok(rec) => CorruptReason::BadSeq { expected: self.expect, got: rec.seq },
            Err(reason) => reason,
        };
        Step::Corrupt { offset: self.pos, reason, resume: self.find_next_valid() }
    }

    fn seq_ok(&self, seq: u64) -> bool {
        match self.expect {
            SeqExpectation::Equal(v) => seq == v,
            SeqExpectation::Above(v) => seq > v,
        }
    }

    /// The first offset after the current one where a plausible, checksum-valid record starts.
    fn find_next_valid(&self) -> Option<usize> {
        let (lo, hi) = match self.expect {
            SeqExpectation::Equal(v) => (v, v.saturating_add(RESYNC_SEQ_WINDOW)),
            SeqExpectation::Above(v) => (v.saturating_add(1), v.saturating_add(RESYNC_SEQ_WINDOW)),
        };
        let last_start = self.buf.len().checked_sub(RECORD_HEADER_LEN)?;
        (self.pos + 1..=last_start).find(|&at| {
            plausible(self.buf, at, lo, hi)
                && decode_record(self.buf, at).is_ok_and(|rec| rec.seq >= lo && rec.seq <= hi)
        })
    }
}

/// Cheap pre-check before a checksum: the length fits in the file and the seq is in `[lo, hi]`.
fn plausible(buf: &[u8], at: usize, lo: u64, hi: u64) -> bool {
    let Some(head) = buf.get(at..at + RECORD_HEADER_LEN) else {
        return false;
    };
    let mut len = [0u8; 4];
    let mut seq = [0u8; 8];
    len.copy_from_slice(head.get(..4).unwrap_or(&[0; 4]));
    seq.copy_from_slice(head.get(8..16).unwrap_or(&[0; 8]));
    let len = u32::from_le_bytes(len) as usize;
    let seq = u64::from_le_bytes(seq);
    let fits = (at + RECORD_HEADER_LEN).checked_add(len).is_some_and(|end| end <= buf.len());
    fits && seq >= lo && seq <= hi
}

/// True when a segment whose header failed to decode looks like a crash while creating it:
/// shorter than a header, or nothing but zeros (allocated, never written).
pub(super) fn is_torn_header(buf: &[u8]) -> bool {
    buf.len() < SEGMENT_HEADER_LEN || buf.iter().all(|&b| b == 0)
}
