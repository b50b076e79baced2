//! The agent's durable on-disk queue: append-only segment files of framed records, a durable ack
//! cursor, deletion of fully acknowledged segments, and a byte bound with a policy when full.
//!
//! A record is one batch: the protobuf bytes of one future `WriteRequest` plus its
//! `producer_seq`, assigned here at enqueue time (strictly increasing, gaps allowed), and the
//! positions of the file sources whose lines it carries (so a restart neither loses nor repeats
//! lines: the position is durable exactly when the lines are).
//!
//! ## Files in the queue directory
//!
//! ```text
//! producer_id              the producer's name, written once on first start
//! state.json               ack cursor, seq floor, counters, checkpoints (atomic rename; see state)
//! status.json              the running agent's metrics, rewritten every second (not used here)
//! seg-<first seq:020>.q    segments, oldest first; only the newest one is appended to
//! ```
//!
//! ## Segment layout (all integers little-endian)
//!
//! ```text
//! +----------+---------------------+---------------------+-----
//! | "ISBAGQ01" (8 bytes: magic + format version 1) | frame | frame | ...
//! +----------+---------------------+---------------------+-----
//!
//! frame:
//! +-----------+-------------+------------------------------------------------------------+
//! | len: u32  | crc: u32    | payload (len bytes); crc = CRC32C (Castagnoli) of payload  |
//! +-----------+-------------+------------------------------------------------------------+
//!
//! payload:
//! +----------+------------------+-------------+--------------------------------+-----------------+
//! | seq: u64 | enqueued_ms: u64 | n_ckpt: u8  | n_ckpt x checkpoint            | request bytes   |
//! +----------+------------------+-------------+--------------------------------+-----------------+
//! checkpoint: | name_len: u16 | name (UTF-8) | file_id: u64 | offset: u64 |
//! request bytes: a protobuf `isobar.v1.WriteRequest` (to the end of the payload)
//! ```
//!
//! ## Recovery
//!
//! Every segment is scanned on open. The first frame that is short (a torn tail from a crash
//! mid-append) or fails its checksum ends the segment: the file is truncated there and the event
//! is logged and counted (`corrupt_frames`). Cutting is the only safe choice, since after a bad
//! length nothing can be trusted; records after the cut in that segment are lost and become a
//! gap in the sequence, which the server accepts. In the newest segment this is the expected torn
//! tail of a crash. A damaged `state.json` is a hard error (it is only ever replaced by rename).
//!
//! ## Durability and the ack cursor
//!
//! An append is written and (with `fsync`) fsynced before [`Queue::append`] returns. The ack
//! cursor is advanced by [`Queue::ack`] and stored in `state.json` before any segment is deleted;
//! a crash between an append and a cursor write only means records are offered again, and the
//! server acknowledges those as duplicates without applying them.

mod append;
mod frame;
mod segment;
mod state;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

pub use frame::FrameError;
use segment::Segment;
pub use state::State;

/// What to do when an append would take the queue past its byte bound (or the disk is full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FullPolicy {
    /// Wait until acknowledgements free space: sources stop (back-pressure).
    #[default]
    Block,
    /// Delete the oldest segment, counting its unacknowledged records as dropped.
    DropOldest,
}

/// Queue settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Bound on the bytes of all segment files.
    pub max_bytes: u64,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// What to do when full.
    pub policy: FullPolicy,
    /// Fsync every append (else a crash may lose the newest records, never corrupt older ones).
    pub fsync: bool,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self { max_bytes: 1 << 30, segment_bytes: 16 << 20, policy: FullPolicy::Block, fsync: true }
    }
}

/// A source's position, stored with the records that carry its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source's name (unique within the agent).
    pub source: String,
    /// Identity of the file read (inode), 0 when not a file.
    pub file_id: u64,
    /// Byte offset after the last line in the record.
    pub offset: u64,
}

/// One queued batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its producer sequence number.
    pub seq: u64,
    /// When it was enqueued, ms since the epoch.
    pub enqueued_ms: u64,
    /// Source positions after this batch.
    pub checkpoints: Vec<Checkpoint>,
    /// Protobuf bytes of the `WriteRequest` (without producer fields).
    pub request: Vec<u8>,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A file operation failed.
    #[error("queue file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `state.json` cannot be read or written.
    #[error("queue state {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A record that can never fit.
    #[error("record of {bytes} bytes cannot fit a queue bounded to {max} bytes")]
    TooLarge {
        /// Frame bytes.
        bytes: u64,
        /// The bound.
        max: u64,
    },
    /// Full and the wait allowed by the caller ran out (policy `block`), or nothing can be dropped.
    #[error("queue is full ({bytes} of {max} bytes)")]
    Full {
        /// Bytes held.
        bytes: u64,
        /// The bound.
        max: u64,
    },
    /// The queue was closed while waiting.
    #[error("queue closed")]
    Closed,
    /// Another process holds the queue directory.
    #[error(
        "queue directory {path} is in use by another running agent (it holds {path}/LOCK); stop that agent, or give \
         this one its own queue.dir"
    )]
    InUse {
        /// The directory.
        path: PathBuf,
    },
}

/// The name of the lock file in a queue directory.
const LOCK_FILE: &str = "LOCK";

/// Takes `dir/LOCK` exclusively, or says that another agent has it.
fn lock_dir(dir: &Path) -> Result<fs::File, QueueError> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| QueueError::Io { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(QueueError::InUse { path: dir.to_path_buf() }),
        Err(fs::TryLockError::Error(source)) => Err(QueueError::Io { path, source }),
    }
}

/// True when a running agent holds the queue directory `dir` (its `LOCK` is locked). A
/// directory without a `LOCK`, or one that cannot be read, is not in use.
pub fn in_use(dir: &Path) -> bool {
    let Ok(file) = fs::OpenOptions::new().read(true).open(dir.join(LOCK_FILE)) else { return false };
    matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock))
}

/// Counters and gauges of the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueStats {
    /// Highest sequence number acknowledged by the server.
    pub acked_seq: u64,
    /// Highest sequence number assigned.
    pub last_seq: u64,
    /// Records not yet acknowledged.
    pub unacked_records: u64,
    /// Bytes of all segment files.
    pub queued_bytes: u64,
    /// Enqueue time (ms since epoch) of the oldest unacknowledged record, 0 if none.
    pub oldest_unacked_ms: u64,
    /// Records dropped unsent (policy `drop_oldest`), over the queue's life.
    pub dropped_records: u64,
    /// Corrupt or torn frames cut on recovery, over the queue's life.
    pub corrupt_frames: u64,
}

/// The queue; share it behind an `Arc`. Appends and reads may come from any thread.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    /// `LOCK`, locked exclusively for as long as the queue is open (the lock dies with the
    /// process, however it ends), as the storage engine locks its data directory.
    _lock: fs::File,
    opts: QueueOptions,
    inner: Mutex<Inner>,
    /// Signalled when space is freed.
    space: Condvar,
    /// Signalled when a record is appended.
    data: Condvar,
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Segments by first sequence number.
    segments: BTreeMap<u64, Segment>,
    /// The newest segment open for appending, if any.
    active: Option<fs::File>,
    last_seq: u64,
    total_bytes: u64,
    /// Latest checkpoint of every source, including those only in segments.
    latest: BTreeMap<String, (u64, u64)>,
    closed: bool,
}

impl Queue {
    /// Opens (creating if needed) the queue in `dir` and recovers it; see the module doc.
    pub fn open(dir: &Path, opts: QueueOptions) -> Result<Self, QueueError> {
        fs::create_dir_all(dir).map_err(|source| QueueError::Io { path: dir.to_path_buf(), source })?;
        let lock = lock_dir(dir)?;
        let mut state = State::load(dir)?;
        let mut names = Vec::new();
        let read = fs::read_dir(dir).map_err(|source| QueueError::Io { path: dir.to_path_buf(), source })?;
        for entry in read {
            let entry = entry.map_err(|source| QueueError::Io { path: dir.to_path_buf(), source })?;
            if let Some(first) = entry.file_name().to_str().and_then(segment::parse_name) {
                names.push((first, entry.path()));
            }
        }
        names.sort();
        let mut latest = state.checkpoints.clone();
        let mut segments = BTreeMap::new();
        let mut total_bytes = 0;
        let mut cut_any = false;
        for (first, path) in names {
            let scan = segment::scan(&path)?;
            if let Some((bytes, err)) = &scan.cut {
                tracing::warn!(path = %path.display(), bytes, error = %err, "queue recovery cut a torn or corrupt tail");
                state.corrupt_frames += 1;
                cut_any = true;
            }
            for c in &scan.checkpoints {
                latest.insert(c.source.clone(), (c.file_id, c.offset));
            }
            if let Some(seg) = scan.segment {
                total_bytes += seg.bytes;
                segments.insert(first, seg);
            }
        }
        let last_in_segments = segments.values().flat_map(|s| s.entries.last()).map(|e| e.seq).max().unwrap_or(0);
        let last_seq = last_in_segments.max(state.seq_floor).max(state.acked_seq);
        if cut_any {
            state.store(dir)?;
        }
        let inner = Inner { state, segments, active: None, last_seq, total_bytes, latest, closed: false };
        Ok(Self {
            dir: dir.to_path_buf(),
            _lock: lock,
            opts,
            inner: Mutex::new(inner),
            space: Condvar::new(),
            data: Condvar::new(),
        })
    }

    /// The queue directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options in force.
    pub fn options(&self) -> &QueueOptions {
        &self.opts
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The latest durable position of `source` (file id, offset), if it ever enqueued one.
    pub fn checkpoint(&self, source: &str) -> Option<(u64, u64)> {
        self.lock().latest.get(source).copied()
    }

    /// Current counters.
    pub fn stats(&self) -> QueueStats {
        let inner = self.lock();
        let acked = inner.state.acked_seq;
        let unacked = inner.segments.values().flat_map(|s| s.entries.iter()).filter(|e| e.seq > acked);
        let (mut count, mut oldest) = (0, 0);
        for e in unacked {
            if count == 0 {
                oldest = e.enqueued_ms;
            }
            count += 1;
        }
        QueueStats {
            acked_seq: acked,
            last_seq: inner.last_seq,
            unacked_records: count,
            queued_bytes: inner.total_bytes,
            oldest_unacked_ms: oldest,
            dropped_records: inner.state.dropped_records,
            corrupt_frames: inner.state.corrupt_frames,
        }
    }

    /// The first record with a sequence number above `after`, waiting up to `wait` for one to be
    /// appended; `None` when there is none (yet).
    pub fn next_after(&self, after: u64, wait: Duration) -> Result<Option<Record>, QueueError> {
        let mut inner = self.lock();
        if !inner.has_after(after) && !inner.closed && !wait.is_zero() {
            inner = self.data.wait_timeout(inner, wait).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
        let Some((path, entry)) = inner.find_after(after) else {
            return Ok(None);
        };
        drop(inner);
        read_record(&path, entry.offset, entry.len).map(Some)
    }

    /// Wakes every waiter and makes blocked appends fail with [`QueueError::Closed`].
    pub fn close(&self) {
        self.lock().closed = true;
        self.space.notify_all();
        self.data.notify_all();
    }
}

impl Inner {
    fn has_after(&self, after: u64) -> bool {
        self.segments.values().next_back().and_then(|s| s.entries.last()).is_some_and(|e| e.seq > after)
    }

    fn find_after(&self, after: u64) -> Option<(PathBuf, segment::Entry)> {
        // The segment holding seq after+1 starts at or below it; earlier ones may be skipped.
        let start = self.segments.range(..=after.saturating_add(1)).next_back().map(|(k, _)| *k).unwrap_or(0);
        self.segments.range(start..).find_map(|(_, seg)| {
            let i = seg.entries.partition_point(|e| e.seq <= after);
            seg.entries.get(i).map(|e| (seg.path.clone(), *e))
        })
    }
}

/// Reads and decodes the frame at `offset` of `path`.
fn read_record(path: &Path, offset: u64, len: u64) -> Result<Record, QueueError> {
    let io = |source| QueueError::Io { path: path.to_path_buf(), source };
    let mut file = fs::File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut buf = vec![0; len as usize];
    file.read_exact(&mut buf).map_err(io)?;
    let (record, _) = frame::decode(&buf).map_err(|e| QueueError::State {
        path: path.to_path_buf(),
        reason: format!("record at offset {offset} no longer decodes: {e}"),
    })?;
    Ok(record)
}
