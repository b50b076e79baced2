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
//! Concurrency: one write lock serialises sequence assignment, WAL hand-off and memtable inserts
//! (each a few memory copies); writers then wait for durability outside the lock, so group commit
//! batches them. Structural changes take the manifest lock and swap the current
//! [`SuperVersion`](version::SuperVersion); readers never take either lock. Lock order: write,
//! then manifest, then the version slot.

mod admin;
pub mod checkpoint;
mod flush;
mod open;
mod producer;
pub(crate) mod record;
pub mod version;
mod write;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, ManifestState};
use crate::options::Options;
use crate::sst::BlockCache;
use crate::wal::Wal;
use version::SuperVersion;

pub(crate) use admin::unknown_table as unknown_table_error;
pub use admin::{DbStats, FamilyStats, StallState};
pub use checkpoint::{CheckpointInfo, restore_checkpoint, verify_checkpoint};
pub(crate) use flush::sst_path;
pub use producer::PendingWrite;
pub use write::WriteReceipt;

/// An open database. Cheap to clone; all clones share the same engine. Dropping the last clone
/// closes the database the way [`Db::close`] does, ignoring errors.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
}

/// The write lock's state.
#[derive(Debug)]
pub(crate) struct WriteState {
    /// Highest sequence number assigned.
    pub last_seq: u64,
    /// Idempotent producers' marks: checked and advanced under this lock, with the WAL append.
    pub producers: crate::producer::table::ProducerTable,
}

/// The manifest and the state it describes, changed together.
#[derive(Debug)]
pub(crate) struct ManifestCell {
    pub manifest: Manifest,
    pub state: ManifestState,
}

#[derive(Debug)]
pub(crate) struct DbInner {
    pub dir: PathBuf,
    pub opts: Options,
    pub wal: Wal,
    pub version: RwLock<Arc<SuperVersion>>,
    pub write: Mutex<WriteState>,
    pub manifest: Mutex<ManifestCell>,
    /// Highest sequence number whose memtable inserts are complete.
    pub applied_seq: AtomicU64,
    pub cache: Arc<BlockCache>,
    pub flush_tx: crossbeam_channel::Sender<flush::Job>,
    /// Signalled whenever a flush frees memory or fails.
    pub progress: (Mutex<()>, Condvar),
    pub poison: Mutex<Option<String>>,
    /// The error of the last flush attempt, while flushes fail (cleared by a success).
    pub flush_error: Mutex<Option<String>>,
    pub closed: AtomicBool,
    pub workers: Mutex<Vec<JoinHandle<()>>>,
    pub counters: admin::Counters,
    /// Wakes or stops the background compaction worker (`None` when it is disabled).
    pub compaction_tx: Option<crossbeam_channel::Sender<crate::compaction::worker::Signal>>,
    /// Held by whoever compacts, so background and manual compactions never overlap.
    pub compaction_lock: Mutex<()>,
    /// The most SSTables any window of any family holds (updated after flushes and merges).
    pub window_files: std::sync::atomic::AtomicUsize,
    /// Held from capturing the producer table's changes until their manifest edit is written,
    /// so edits reach the manifest in capture order. Lock order: this, then write, then manifest.
    pub producer_persist: Mutex<()>,
    /// The directory lock, released by `close`.
    pub lock: Mutex<Option<File>>,
}

impl Db {
    /// Opens the database in `dir` (creating it when missing) and recovers it: the manifest gives
    /// the catalog and the SSTables, the WAL replays what was not yet flushed.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db> {
        open::open(dir.as_ref(), opts)
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
    pub(crate) fn current(&self) -> Arc<SuperVersion> {
        self.inner.version.read().clone()
    }

    /// Highest sequence number a new reader may see: applied to memtables and durable in the WAL.
    pub(crate) fn visible_seq(&self) -> u64 {
        self.inner.applied_seq.load(Ordering::Acquire).min(self.inner.wal.durable_seq())
    }

    /// Replaces the current version with `f` applied to a copy of it.
    pub(crate) fn install(&self, f: impl FnOnce(&mut SuperVersion)) {
        let mut slot = self.inner.version.write();
        let mut next = SuperVersion::clone(&slot);
        f(&mut next);
        *slot = Arc::new(next);
    }

    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        match &*self.inner.poison.lock() {
            Some(reason) => Err(Error::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    pub(crate) fn poison(&self, reason: String) {
        tracing::error!(%reason, "database refuses writes until reopened");
        self.inner.poison.lock().get_or_insert(reason);
        self.inner.progress.1.notify_all();
    }

    /// Flushes the WAL, stops the background threads and releases the directory. Memtables are
    /// not flushed: the WAL holds their contents and the next open replays it (as RocksDB does).
    /// Later calls on any clone fail with [`Error::Closed`].
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let _ = self.inner.flush_tx.send(flush::Job::Stop);
        if let Some(tx) = &self.inner.compaction_tx {
            let _ = tx.send(crate::compaction::worker::Signal::Stop);
        }
        let workers: Vec<_> = self.inner.workers.lock().drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
        let last_seq = self.inner.write.lock().last_seq;
        {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            if state.last_seq < last_seq {
                manifest.apply(state, vec![crate::manifest::Edit::LastSeq(last_seq)])?;
            }
        }
        self.inner.wal.close()?;
        self.inner.lock.lock().take();
        Ok(())
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.flush_tx.send(flush::Job::Stop);
            if let Some(tx) = &self.compaction_tx {
                let _ = tx.send(crate::compaction::worker::Signal::Stop);
            }
            for w in self.workers.get_mut().drain(..) {
                let _ = w.join();
            }
            let _ = self.wal.close();
        }
    }
}
