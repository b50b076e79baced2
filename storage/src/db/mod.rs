//! [`Db`]: the public handle of an open database.
//!
//! ```text
//! write ─► validate (catalog) ─► WAL append (seq) ─► memtables of the touched families ─► wait durable
//!                                                       │ full
//!                                                       ▼
//!                                 frozen memtable ─► flush thread ─► SSTable + manifest edit
//! read  ─► snapshot (Arc<SuperVersion> + visible seq) ─► memtables + SSTables ─► merge ─► Arrow
//! ```
//!
//! # Parts and what each owns
//!
//! [`Db`] is a cheap handle on one `DbInner`, which is the WAL plus four parts; each part is a
//! struct with private fields, and only this folder installs edits into the version set.
//!
//! | part | file | owns |
//! |---|---|---|
//! | version set | `versions.rs` | the current [`SuperVersion`](crate::version::SuperVersion) (read lock for the `Arc` clone), the manifest and its state (the manifest lock) |
//! | write path | `write_path.rs` | the write lock over `WriteState` (last assigned seq, producer marks), the applied seq; the steps of a write are in `write.rs`, throttle and stalls in `stall.rs` |
//! | flusher | `flusher.rs` | the flush thread, its job queue, the retry nudge, the last flush failure |
//! | compactor | `compactor.rs` | the compaction thread and its channel, the compaction lock (one merge at a time), the fullest window's file count, the running-merge gauge |
//!
//! The rest of `DbInner` is shared plumbing: directory, options, block cache, counters
//! (`counters.rs`), the progress condition variable (signalled when a flush or merge frees memory or
//! files, or the database is poisoned), the poison reason, the closed flag and the directory lock.
//! The other files are `impl Db` blocks by concern: `open.rs` (recover), `flush.rs` (one flush,
//! manual flush, WAL trimming), `compaction.rs` (running merges and installing their edits),
//! `tables.rs` (schema changes, range deletes), `stats.rs`, `metrics.rs`, `producer.rs`,
//! `health.rs` (the read-only state health checks report), `resume.rs` and `resumer.rs` (recovery
//! without a restart, on demand and in the background),
//! `read.rs` (snapshots and scans), `checkpoint/`. The compaction *executor* lives in
//! [`crate::compaction`] as a function that returns an edit; only `db/` applies edits.
//!
//! # Locks and their order
//!
//! One write lock serialises sequence assignment, WAL hand-off and memtable inserts (each a few
//! memory copies); writers then wait for durability outside the lock, so group commit batches
//! them. Structural changes take the manifest lock and swap the current version; readers never
//! take either lock. The order, outermost first:
//!
//! 0. the flush gate (held by a flush for its whole run, by a resume, and by a checkpoint from its
//!    cut until its files are linked);
//! 1. the compaction lock (held by whoever merges, and by a checkpoint while it links files);
//! 2. `producer_persist` (from capturing the producer table's changes until their edit is written);
//! 3. the write lock;
//! 4. the manifest lock;
//! 5. the version slot (held only to clone or swap the `Arc`).
//!
//! The progress mutex is held only by a waiter (a stalled writer, a manual flush) between checks;
//! while holding it, a waiter reads the version slot and takes the poison and last-failure
//! mutexes, and no other lock of the list above. Those small mutexes (poison, the flusher's last failure, the
//! workers' join handles) are leaves: nothing is taken while one is held.
//!
//! # Durability
//!
//! A write is acknowledged once its WAL record is durable as the sync policy promises. A flush or
//! merge writes and fsyncs its files, renames them and fsyncs the directory before its manifest
//! edit; the edit is the commit point. A failed manifest sync poisons the database until reopened
//! (its state on disk is unknown); a failed WAL write or sync suspends writes until a resume
//! (`resume.rs`) flushes the memtables and restarts the WAL. See `flush.rs` and [`crate::compaction`].

mod access;
pub(crate) mod checkpoint;
mod compaction;
mod compactor;
mod counters;
mod flush;
mod flusher;
pub(crate) mod health;
pub(crate) mod metrics;
mod open;
pub(crate) mod producer;
mod read;
mod record;
pub(crate) mod resume;
mod resumer;
pub(crate) mod stall;
pub(crate) mod stats;
mod tables;
mod versions;
mod write;
mod write_path;

pub use tables::FamilyCompaction;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::sst::BlockCache;
use crate::version::SuperVersion;
use crate::wal::Wal;
use compactor::Compactor;
use counters::Counters;
use flusher::Flusher;
use versions::VersionSet;
use write_path::WritePath;

/// An open database. Cheap to clone; all clones share the same engine. Dropping the last clone
/// closes the database the way [`Db::close`] does, ignoring errors, on the dropping thread: it
/// waits for the background workers, so the directory can be reopened at once (as RocksDB's
/// `Close` waits for background jobs).
#[derive(Clone, Debug)]
pub struct Db {
    inner: Arc<DbInner>,
    /// Shared by the handles callers hold; `None` in the workers' own short-lived handles, so that
    /// the last caller's handle, not a worker finishing a job, is what closes the database (a
    /// worker that closed it would have to join its own thread).
    _owner: Option<Arc<Owner>>,
}

/// Closes the database when the last caller's handle goes.
#[derive(Debug)]
struct Owner(Arc<DbInner>);

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = Db::worker(Arc::clone(&self.0)).close();
    }
}

#[derive(Debug)]
struct DbInner {
    dir: PathBuf,
    opts: Options,
    wal: Wal,
    versions: VersionSet,
    writes: WritePath,
    flusher: Flusher,
    compactor: Compactor,
    cache: Arc<BlockCache>,
    /// Signalled whenever a flush or merge frees memory or files, a flush fails, or the database
    /// is poisoned.
    progress: (Mutex<()>, Condvar),
    poison: Mutex<Option<health::Poison>>,
    closed: AtomicBool,
    counters: Counters,
    /// Held from capturing the producer table's changes until their manifest edit is written,
    /// so edits reach the manifest in capture order. Lock order: this, then write, then manifest.
    producer_persist: Mutex<()>,
    /// The directory lock, released by `close`.
    lock: Mutex<Option<Box<dyn crate::fs::Lock>>>,
    /// Held by each flush for its whole run and by a resume while it flushes everything, so that
    /// no memtable is flushed twice. Taken before every other lock of the write path.
    flush_gate: Mutex<()>,
    /// The background retry after a failure the engine recovers from.
    resumer: resumer::Resumer,
}

impl Db {
    /// The handle a caller gets from `open`: dropping its last clone closes the database.
    fn owned(inner: Arc<DbInner>) -> Self {
        let owner = Some(Arc::new(Owner(Arc::clone(&inner))));
        Self { inner, _owner: owner }
    }

    /// A background worker's handle for one job: dropping it never closes the database.
    fn worker(inner: Arc<DbInner>) -> Self {
        Self { inner, _owner: None }
    }

    /// The directory the database lives in.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// The current version (catalog, memtables, files).
    fn current(&self) -> Arc<SuperVersion> {
        self.inner.versions.current()
    }

    /// Replaces the current version with `f` applied to a copy of it.
    fn install(&self, f: impl FnOnce(&mut SuperVersion)) {
        self.inner.versions.install(f);
    }

    /// Highest sequence number a new reader may see: applied to memtables and durable in the WAL.
    fn visible_seq(&self) -> u64 {
        self.inner.writes.applied_seq().min(self.inner.wal.durable_seq())
    }

    fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    fn check_writable(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        match &*self.inner.poison.lock() {
            Some(p) if p.resumable => Err(Error::Suspended(p.message.clone())),
            Some(p) => Err(Error::Poisoned(p.message.clone())),
            None => Ok(()),
        }
    }

    /// Wakes everyone waiting for a flush or merge to make progress.
    fn notify_progress(&self) {
        self.inner.progress.1.notify_all();
    }

    /// Turns a WAL failure into the caller's error. A failure of the log itself (write, sync or
    /// segment creation) leaves its state on disk unknown, so the database refuses writes until
    /// reopened; the caller gets [`Error::DiskFull`](crate::Error::DiskFull) when the disk was full.
    fn wal_failed(&self, e: crate::wal::Error) -> Error {
        if !matches!(e, crate::wal::Error::Failed { .. }) {
            return e.into();
        }
        let e = Error::from(e);
        let full = e.disk_full_path().map(Path::to_path_buf);
        let hint = if full.is_some() { "free space on its file system; " } else { "" };
        let reason = if full.is_some() { health::ReadOnlyReason::DiskFull } else { health::ReadOnlyReason::WalFailed };
        self.poison(
            reason,
            true,
            format!(
                "{e}; whether the last writes reached the disk is unknown, so writes are refused until the engine \
                 recovers ({hint}it retries by itself with back-off, `isobar admin resume` retries now, and a reopen \
                 works too: acknowledged writes are never lost)"
            ),
        );
        match full {
            Some(path) => Error::DiskFull { during: "WAL append", path, resumes: true },
            None => e,
        }
    }

    /// Refuses writes from now on, for `kind`. A `resumable` failure starts the background retry
    /// (`resumer.rs`); one that is not replaces a resumable one (it is the worse news) and stays
    /// until the database is reopened.
    fn poison(&self, kind: health::ReadOnlyReason, resumable: bool, reason: String) {
        {
            let mut p = self.inner.poison.lock();
            if p.as_ref().is_some_and(|p| !p.resumable || resumable) {
                return;
            }
            *p = Some(health::Poison { reason: kind, message: reason.clone(), resumable });
        }
        if resumable {
            tracing::error!(read_only = kind.as_str(), %reason, "database refuses writes until it recovers");
            self.inner.resumer.ensure_running(Arc::downgrade(&self.inner));
        } else {
            tracing::error!(read_only = kind.as_str(), %reason, "database refuses writes until reopened");
        }
        self.notify_progress();
    }

    /// Flushes the WAL, stops the background threads and releases the directory. Memtables are
    /// not flushed: the WAL holds their contents and the next open replays it (as RocksDB does).
    /// Later calls on any clone fail with [`Error::Closed`](crate::Error::Closed).
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.stop_workers();
        let last_seq = self.inner.writes.lock().last_seq();
        let recorded = {
            let mut cell = self.inner.versions.lock_manifest();
            if cell.state().last_seq < last_seq && !cell.is_poisoned() {
                cell.apply(vec![crate::manifest::Edit::LastSeq(last_seq)])
            } else {
                Ok(())
            }
        };
        let wal = self.inner.wal.close();
        // Released whatever failed, so that the database can be reopened (the way to recover
        // from a failure that poisoned it).
        self.inner.lock.lock().take();
        recorded?;
        wal?;
        Ok(())
    }
}

impl DbInner {
    /// Tells both workers to stop, then waits for the flusher and then the compactor to exit.
    fn stop_workers(&self) {
        self.flusher.signal_stop();
        self.compactor.signal_stop();
        self.flusher.join();
        self.compactor.join();
        self.resumer.stop_and_join();
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.stop_workers();
            let _ = self.wal.close();
        }
    }
}
