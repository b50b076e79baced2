//! Recovery: reads every segment in order, hands intact records to the caller, truncates a torn
//! tail, and reports or skips corruption.
//!
//! What counts as a torn tail: in the **last** segment, a bad record (short, absurd length,
//! checksum mismatch) after which no valid record can be found ([`SegmentScan`] resyncs byte by
//! byte). That is what a crash in the middle of an append leaves; it is cut off with `set_len`
//! and an `fsync` before anything new is written, so that the next recovery does not see it as
//! corruption in the middle of the log. A last segment that is shorter than its header or all
//! zeros (a crash while creating it) is deleted.
//!
//! Everything else is corruption: a bad header of any segment but a torn last one, a bad record
//! in an earlier segment, or a bad record followed by valid ones. Under [`WalRecovery::Strict`]
//! that is [`Error::Corrupt`] naming the file and offset; under [`WalRecovery::SkipCorrupt`] a
//! warning, and the scan resumes at the next valid record (or skips the rest of the segment, or
//! the whole segment for a bad header).
//!
//! A segment whose header carries a *newer* format version is not corruption: it was written by a
//! later build (a downgrade) and holds acknowledged writes. Replay fails with
//! [`Error::NewerVersion`] under every recovery mode, naming the file and both versions, before
//! any record of it is handed over. (A newer header is not checksum-checked: a later version may
//! lay it out differently.)
//!
//! Each segment is read whole into memory (one at a time) and records are handed to the
//! callback as slices of it; nothing is allocated from a length field.
//!
//! Resync is a heuristic: a payload that embeds a well-formed record with a plausible seq can be
//! mistaken for one if the record around it is damaged. Under Strict that can only turn a torn
//! tail into a refusal to open; under SkipCorrupt such an embedded record could be replayed.
//!
//! Power loss with `SyncPolicy::None`/`Interval` may persist later pages of an unsynced write and
//! not earlier ones; then valid records follow garbage and Strict recovery refuses to open.
//! Such records were never acknowledged as durable; `SkipCorrupt` recovers what is readable.

use std::path::{Path, PathBuf};

use super::error::{CorruptReason, Error};
use super::format::SegmentHeader;
use super::reader::{SegmentScan, Step, is_torn_header};
use super::segment::{SegmentInfo, list_segments, segment_path};
use crate::fs::FileSystem;
use crate::options::WalRecovery;

/// What a replay found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Segments read.
    pub segments: usize,
    /// Records handed to the callback (intact and with seq above `after_seq`).
    pub records: u64,
    /// Payload bytes handed to the callback.
    pub bytes: u64,
    /// Highest seq of any intact record, handed over or not.
    pub last_seq: Option<u64>,
    /// Bytes cut off the torn tail (or removed with a torn last segment).
    pub truncated_bytes: u64,
    /// Corrupt regions skipped under [`WalRecovery::SkipCorrupt`].
    pub skipped_corruptions: u64,
}

/// The outcome of a replay, for the handle.
pub(super) struct Recovered {
    /// The statistics.
    pub stats: ReplayStats,
    /// The segments that remain, all closed.
    pub segments: Vec<SegmentInfo>,
    /// The number for the next segment.
    pub next_number: u64,
}

/// Replays the segments in `dir`; see the module doc.
pub(super) fn replay_dir(
    fs: &dyn FileSystem,
    dir: &Path,
    recovery: WalRecovery,
    after_seq: u64,
    f: &mut dyn FnMut(u64, &[u8]) -> crate::Result<()>,
) -> crate::Result<Recovered> {
    let numbers = list_segments(fs, dir)?;
    let next_number = numbers.last().map_or(1, |n| n.saturating_add(1));
    let mut out = Recovered { stats: ReplayStats::default(), segments: Vec::new(), next_number };
    for (i, &number) in numbers.iter().enumerate() {
        let path = segment_path(dir, number);
        let last = i + 1 == numbers.len();
        let seg = replay_segment(fs, &path, number, last, recovery, after_seq, &mut out.stats, f)?;
        out.stats.segments += 1;
        if let Some(info) = seg {
            out.segments.push(info);
        }
    }
    Ok(out)
}

/// Replays one segment; returns its info, or `None` if it was a torn last segment and is gone.
#[allow(clippy::too_many_arguments)]
fn replay_segment(
    fs: &dyn FileSystem,
    path: &Path,
    number: u64,
    last: bool,
    recovery: WalRecovery,
    after_seq: u64,
    stats: &mut ReplayStats,
    f: &mut dyn FnMut(u64, &[u8]) -> crate::Result<()>,
) -> crate::Result<Option<SegmentInfo>> {
    let buf = fs.read(path).map_err(|e| Error::io(path, e))?;
    let mut info = SegmentInfo {
        number,
        path: path.to_path_buf(),
        size: buf.len() as u64,
        first_seq: None,
        last_seq: None,
        active: false,
    };
    let header = SegmentHeader::decode(&buf).and_then(|h| match h.number == number {
        true => Ok(h),
        false => Err(CorruptReason::SegmentNumberMismatch { expected: number, got: h.number }),
    });
    let header = match header {
        Ok(h) => h,
        Err(CorruptReason::UnsupportedVersion { got, supported }) if got > supported => {
            return Err(Error::NewerVersion { segment: path.to_path_buf(), found: got, supported }.into());
        }
        Err(_) if last && is_torn_header(&buf) => {
            tracing::warn!(
                segment = %path.display(),
                offset = 0,
                bytes = buf.len(),
                "WAL: last segment has a torn header (crash while creating it); removing it"
            );
            fs.remove_file(path).map_err(|e| Error::io(path, e))?;
            let dir = path.parent().unwrap_or(Path::new("."));
            crate::fs::sync_dir_in(fs, dir)?;
            stats.truncated_bytes += buf.len() as u64;
            return Ok(None);
        }
        Err(reason) => {
            corrupt(path, 0, reason, recovery, "skipping the whole segment")?;
            stats.skipped_corruptions += 1;
            return Ok(Some(info));
        }
    };
    info.first_seq = Some(header.first_seq);
    let mut scan = SegmentScan::new(&buf, header.first_seq);
    loop {
        match scan.next_step() {
            Step::End => break,
            Step::Record(rec) => {
                info.last_seq = Some(rec.seq);
                stats.last_seq = Some(stats.last_seq.map_or(rec.seq, |s| s.max(rec.seq)));
                if rec.seq > after_seq {
                    f(rec.seq, rec.payload)?;
                    stats.records += 1;
                    stats.bytes += rec.payload.len() as u64;
                }
            }
            Step::Corrupt { offset, resume: None, .. } if last => {
                truncate(fs, path, offset, buf.len())?;
                stats.truncated_bytes += (buf.len() - offset) as u64;
                info.size = offset as u64;
                break;
            }
            Step::Corrupt { offset, reason, resume } => {
                let action = match resume {
                    Some(_) => "skipping to the next valid record",
                    None => "skipping the rest of the segment",
                };
                corrupt(path, offset, reason, recovery, action)?;
                stats.skipped_corruptions += 1;
                match resume {
                    Some(at) => scan.resume_at(at),
                    None => break,
                }
            }
        }
    }
    Ok(Some(info))
}

/// Under Strict, the corruption error; under SkipCorrupt, a warning.
fn corrupt(
    path: &Path,
    offset: usize,
    reason: CorruptReason,
    recovery: WalRecovery,
    action: &str,
) -> Result<(), Error> {
    match recovery {
        WalRecovery::Strict => Err(Error::Corrupt { segment: PathBuf::from(path), offset: offset as u64, reason }),
        WalRecovery::SkipCorrupt => {
            tracing::warn!(
                segment = %path.display(),
                offset,
                %reason,
                "WAL: corrupt record, {action} (wal_recovery = skip_corrupt)"
            );
            Ok(())
        }
    }
}

/// Cuts a torn tail off the last segment and makes the cut durable.
fn truncate(fs: &dyn FileSystem, path: &Path, offset: usize, len: usize) -> Result<(), Error> {
    tracing::warn!(
        segment = %path.display(),
        offset,
        truncated_bytes = len - offset,
        "WAL: torn tail (incomplete or checksum-failing last record) truncated"
    );
    let mut file = fs.open_write(path).map_err(|e| Error::io(path, e))?;
    file.set_len(offset as u64).and_then(|()| file.sync_all()).map_err(|e| Error::io(path, e))
}
