//! Whether the database can do its job: [`Db::read_only`] says when, and why, writes are refused
//! because of a background failure, so that health checks, readiness probes and the
//! `isobar_read_only{reason}` metric tell the truth instead of "serving" while every write fails.
//!
//! Two conditions count:
//!
//! - **Poisoned**: a WAL write or sync failed, or a manifest sync failed. What reached the disk is
//!   unknown, so every write is refused: after a WAL failure until a resume (`resume.rs`, retried
//!   in the background) succeeds, after a manifest failure until the database is reopened. The reason is
//!   [`ReadOnlyReason::DiskFull`] when the failing call reported `ENOSPC`, else
//!   [`ReadOnlyReason::WalFailed`] or [`ReadOnlyReason::ManifestFailed`].
//! - **Flushes failing while writes are stopped**: the flush worker keeps retrying (with back-off)
//!   and the memtables have reached the budget, so writes wait and then fail. This one clears by
//!   itself once a flush succeeds. A flush failure while memtables still have room is not
//!   read-only: writes are still accepted and durable.
//!
//! Overload (a write stall with healthy flushes) is not read-only: it is back-pressure and clears
//! as the background work catches up.

use super::Db;
use super::stall::StallState;

/// Why writes are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadOnlyReason {
    /// A write to the WAL, a flush or the manifest found no space left on its file system.
    DiskFull,
    /// A WAL write, sync or segment creation failed for another reason (an I/O error).
    WalFailed,
    /// A manifest sync failed, so its state on disk is unknown.
    ManifestFailed,
    /// Flushes fail (not for lack of space) and the memtables are full.
    FlushFailing,
}

impl ReadOnlyReason {
    /// Every reason, in the order the metric lists them.
    pub const ALL: [ReadOnlyReason; 4] = [
        ReadOnlyReason::DiskFull,
        ReadOnlyReason::WalFailed,
        ReadOnlyReason::ManifestFailed,
        ReadOnlyReason::FlushFailing,
    ];

    /// The stable, lower-case name used as the metric label and in health replies.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadOnlyReason::DiskFull => "disk_full",
            ReadOnlyReason::WalFailed => "wal_failed",
            ReadOnlyReason::ManifestFailed => "manifest_failed",
            ReadOnlyReason::FlushFailing => "flush_failing",
        }
    }
}

impl std::fmt::Display for ReadOnlyReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The read-only state of a database: why, in words, and whether it clears without a reopen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOnly {
    /// The kind of failure.
    pub reason: ReadOnlyReason,
    /// What failed, on which file, and what to do (the message the log line carries).
    pub detail: String,
    /// True when the engine leaves the state by itself once the cause is gone (failing flushes
    /// and a failed WAL are retried); false when only a reopen does (a failed manifest sync).
    pub clears_by_itself: bool,
}

/// A poisoned database's reason, kept until reopen.
#[derive(Clone, Debug)]
pub(super) struct Poison {
    pub(super) reason: ReadOnlyReason,
    pub(super) message: String,
    /// True when a resume can clear it (a WAL failure); false when only a reopen can (a manifest
    /// whose sync failed).
    pub(super) resumable: bool,
}

impl Db {
    /// Whether writes are refused because of a background failure, and why (`None` while the
    /// database can take writes, and once it is closed). Cheap: two small mutexes and the
    /// memtable sizes of the current version; no I/O.
    pub fn read_only(&self) -> Option<ReadOnly> {
        if self.is_closed() {
            return None;
        }
        if let Some(p) = self.inner.poison.lock().clone() {
            return Some(ReadOnly { reason: p.reason, detail: p.message, clears_by_itself: p.resumable });
        }
        let failure = self.inner.flusher.last_failure()?;
        if !matches!(self.stall_state(), StallState::Stopped(_)) {
            return None;
        }
        let reason = if failure.is_disk_full() { ReadOnlyReason::DiskFull } else { ReadOnlyReason::FlushFailing };
        Some(ReadOnly {
            reason,
            detail: format!(
                "writes are held back: the memtables are full and flushes are failing ({}); the flush worker \
                 retries with back-off and writes resume once a flush succeeds",
                failure.reason()
            ),
            clears_by_itself: true,
        })
    }
}
