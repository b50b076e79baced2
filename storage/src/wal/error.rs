//! Errors of the write-ahead log.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Every error the WAL returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening, listing, reading, truncating or deleting a WAL file failed.
    #[error("WAL I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A record or segment header failed its checks somewhere other than the torn tail.
    #[error("corrupt WAL segment {segment} at byte {offset}: {reason}")]
    Corrupt {
        /// The segment file.
        segment: PathBuf,
        /// Byte offset of the bad header or record from the start of the file.
        offset: u64,
        /// What was wrong.
        reason: CorruptReason,
    },
    /// The writer thread failed to write or sync; the WAL accepts nothing more until it is
    /// reopened. Every waiter and every later append gets this same error (see
    /// [`Wal`](super::Wal) on why a failed `fsync` is never retried).
    #[error("WAL {op} of {segment} failed, the log is read-only until reopened: {source}")]
    Failed {
        /// What the writer was doing.
        op: FailedOp,
        /// The segment file (or the WAL directory for a directory sync).
        segment: PathBuf,
        /// The original OS error, shared by everyone who reports it.
        #[source]
        source: Arc<io::Error>,
    },
    /// A segment written by a newer build: its header carries a format version above the one
    /// this build reads. Never treated as corruption, whatever
    /// [`WalRecovery`](crate::options::WalRecovery) says: the segment holds acknowledged writes
    /// that a mistaken downgrade must not drop, so the open fails and the operator runs the
    /// newer build again.
    #[error(
        "WAL segment {segment} has format version {found}, newer than this build reads (version {supported}); \
         it holds acknowledged writes, so it is not skipped as corrupt: run the Isobar release that wrote it \
         (or a later one)"
    )]
    NewerVersion {
        /// The segment file.
        segment: PathBuf,
        /// The version in its header.
        found: u16,
        /// The version this build reads (and writes).
        supported: u16,
    },
    /// The WAL was closed (or its writer thread has stopped).
    #[error("WAL is closed")]
    Closed,
    /// `append` was called before `replay`.
    #[error("WAL must be replayed before the first append")]
    NotReplayed,
    /// `replay` was called a second time.
    #[error("WAL was already replayed; replay runs once, before the first append")]
    AlreadyReplayed,
    /// A payload larger than the record size limit.
    #[error("WAL record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Payload length.
        len: usize,
        /// The limit ([`MAX_RECORD_LEN`](super::format::MAX_RECORD_LEN)).
        max: usize,
    },
    /// `append` with a sequence number not above the previous one.
    #[error("WAL append with seq {got} after seq {last}; seqs must strictly increase")]
    SeqNotIncreasing {
        /// The previously appended seq.
        last: u64,
        /// The rejected seq.
        got: u64,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// Which writer operation failed and poisoned the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedOp {
    /// Creating a new segment file.
    Create,
    /// `write(2)` of a batch.
    Write,
    /// `fdatasync(2)` of a segment.
    Sync,
    /// `fsync(2)` of the WAL directory after creating a segment.
    SyncDir,
}

impl fmt::Display for FailedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailedOp::Create => "create",
            FailedOp::Write => "write",
            FailedOp::Sync => "fdatasync",
            FailedOp::SyncDir => "directory fsync",
        })
    }
}

/// Why a segment header or record was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptReason {
    /// Fewer bytes than a header or record needs.
    #[error("{what} needs {needed} bytes, only {available} left")]
    Short {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// The segment does not start with the WAL magic.
    #[error("bad magic {got:02x?}")]
    BadMagic {
        /// The bytes found.
        got: [u8; 8],
    },
    /// A format version this build cannot read.
    #[error("unsupported format version {got} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found.
        got: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The header names another segment than the file name does.
    #[error("header says segment {got}, the file name says {expected}")]
    SegmentNumberMismatch {
        /// Number from the file name.
        expected: u64,
        /// Number in the header.
        got: u64,
    },
    /// A record length over the limit or past the end of the file.
    #[error("record length {len} exceeds the limit of {max}")]
    LengthTooLarge {
        /// The length field.
        len: u64,
        /// The limit that applied (record size limit or bytes left in the file).
        max: u64,
    },
    /// A checksum that does not match the bytes it covers.
    #[error("{what} checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// Header or record.
        what: &'static str,
        /// The stored checksum.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A record whose seq is not above its predecessor's (or, for a segment's first record, not
    /// equal to the header's first seq).
    #[error("record seq {got}, expected {expected}")]
    BadSeq {
        /// What was expected, e.g. `> 41` or `= 42`.
        expected: SeqExpectation,
        /// The seq found.
        got: u64,
    },
}

/// The seq a record was required to have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqExpectation {
    /// Exactly this value (a segment's first record carries the header's first seq).
    Equal(u64),
    /// Strictly greater than this value.
    Above(u64),
}

impl fmt::Display for SeqExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqExpectation::Equal(v) => write!(f, "= {v}"),
            SeqExpectation::Above(v) => write!(f, "> {v}"),
        }
    }
}
