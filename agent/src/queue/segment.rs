//! Segment files: naming, the file header, and the recovery scan that validates every frame and
//! cuts a segment at its first bad one.

use std::fs;
use std::path::{Path, PathBuf};

use super::frame::{self, FrameError};
use super::{Checkpoint, QueueError};

/// First bytes of every segment: format name and version 1.
pub const MAGIC: &[u8; 8] = b"ISBAGQ01";

/// Where one record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its sequence number.
    pub seq: u64,
    /// Offset of its frame in the segment.
    pub offset: u64,
    /// Length of its frame.
    pub len: u64,
    /// When it was enqueued (ms since the epoch).
    pub enqueued_ms: u64,
}

/// One segment file and the records it holds.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its records, in sequence order.
    pub entries: Vec<Entry>,
}

/// The file name of the segment whose first record is `seq`.
pub fn file_name(seq: u64) -> String {
    format!("seg-{seq:020}.q")
}

/// The first sequence number named by a segment file name, or `None` for other files.
pub fn parse_name(name: &str) -> Option<u64> {
    name.strip_prefix("seg-")?.strip_suffix(".q")?.parse().ok()
}

/// What the scan of one segment found besides its records.
#[derive(Debug, Default)]
pub struct Scan {
    /// The segment with its valid records.
    pub segment: Option<Segment>,
    /// Checkpoints in record order.
    pub checkpoints: Vec<Checkpoint>,
    /// Bytes cut from its end, and why.
    pub cut: Option<(u64, FrameError)>,
}

/// Reads `path`, keeps every valid frame, and truncates the file after the last one when a frame
/// is torn or corrupt (a file without even a valid header is reset to the bare header).
pub fn scan(path: &Path) -> Result<Scan, QueueError> {
    let io = |source| QueueError::Io { path: path.to_path_buf(), source };
    let bytes = fs::read(path).map_err(io)?;
    let mut out = Scan::default();
    let mut pos = MAGIC.len();
    let mut entries = Vec::new();
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        // A segment created but never written past its header write, or not ours at all.
        let len = bytes.len().min(MAGIC.len());
        let torn = FrameError::Truncated { need: MAGIC.len(), have: len };
        out.cut = Some((bytes.len() as u64, torn));
        fs::write(path, MAGIC).map_err(io)?;
        out.segment = Some(Segment { path: path.to_path_buf(), bytes: MAGIC.len() as u64, entries });
        return Ok(out);
    }
    while pos < bytes.len() {
        match frame::decode(bytes.get(pos..).unwrap_or_default()) {
            Ok((record, len)) => {
                entries.push(Entry {
                    seq: record.seq,
                    offset: pos as u64,
                    len: len as u64,
                    enqueued_ms: record.enqueued_ms,
                });
                out.checkpoints.extend(record.checkpoints);
                pos += len;
            }
            Err(err) => {
                out.cut = Some(((bytes.len() - pos) as u64, err));
                let file = fs::OpenOptions::new().write(true).open(path).map_err(io)?;
                file.set_len(pos as u64).map_err(io)?;
                file.sync_all().map_err(io)?;
                break;
            }
        }
    }
    out.segment = Some(Segment { path: path.to_path_buf(), bytes: pos as u64, entries });
    Ok(out)
}
