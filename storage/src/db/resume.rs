//! Recovery without a restart: [`Db::resume`] takes a database that refuses writes after a WAL
//! failure or a full disk back to read-write, the way RocksDB's `Resume()` does after a
//! retryable background error. The resume thread (`resumer.rs`) calls it with back-off; the
//! server's `Admin/ResumeWrites` (`isobar admin resume`) calls it at once.
//!
//! # What a resume does, and why nothing is lost or doubled
//!
//! A write is applied to its memtables right after it is queued for the WAL and is
//! acknowledged only once the WAL made it durable; readers see only seqs up to the durable one.
//! After a WAL failure the memtables may therefore hold records (seqs above the durable one)
//! that the failed segment holds only in part, or not at all, and whose writers got an error.
//! The failed segment is never written or synced again (a retried `fsync` may "succeed" on pages
//! the kernel already dropped). Instead, with writes refused and under the flush gate:
//!
//! 1. every memtable is frozen at the last assigned seq `L` and flushed to SSTables; each flush
//!    is a normal, crash-safe flush (files fsynced, then one manifest edit), so what it covers
//!    no longer depends on the WAL;
//! 2. the idempotent producers' marks are recorded as of `L` in the manifest (after the rows,
//!    so that a mark never claims a write whose rows could still be lost);
//! 3. [`Wal::restart`](crate::wal::Wal::restart) retires the failed segment and starts a new
//!    writer after `L`; every segment up to `L`, the failed one included, is deleted;
//! 4. the refusal is lifted.
//!
//! Every acknowledged write is at or below the durable seq, so it is in an SSTable after step 1.
//! A write that failed (seq in the gap) is kept once, by the same flush, and becomes visible:
//! its writer got an error saying the outcome is unknown, and retrying it rewrites the same
//! cells (last write wins on `(series, ts, column)`), so a retry never shows a row twice. A
//! crash at any step leaves either the old WAL (the failed segment's torn tail is the end of the
//! log, truncated at open) plus complete flushes, or the new state.
//!
//! A failure the engine cannot recover from in process (a manifest whose sync failed: its
//! state on disk is unknown) stays read-only, named, until the database is reopened.

use super::Db;
use crate::error::{Error, Result};
use crate::manifest::Edit;
use crate::schema::FamilyId;

/// What [`Db::resume`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// The database was taking writes already; nothing was done.
    NotNeeded,
    /// Failing flushes were retried and succeeded.
    FlushesRetried,
    /// The WAL was restarted after its failure: writes are taken again.
    WalRestarted,
}

impl Db {
    /// Brings the database back to taking writes after a background failure, when it can be
    /// done in process: after a WAL write or sync failure or a full disk, flushes the memtables,
    /// restarts the WAL on a new segment and lifts the refusal (see the module doc of `resume`);
    /// while flushes fail, retries them now. Fails, changing nothing that a later call could not
    /// redo, while the cause persists (e.g. [`Error::DiskFull`] until space is freed), and with
    /// [`Error::Poisoned`] for a failure that needs a reopen.
    pub fn resume(&self) -> Result<Resumed> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let poison = self.inner.poison.lock().clone();
        let Some(poison) = poison else {
            if self.inner.flusher.last_failure().is_none() {
                return Ok(Resumed::NotNeeded);
            }
            self.flush()?;
            return Ok(Resumed::FlushesRetried);
        };
        if !poison.resumable {
            return Err(Error::Poisoned(poison.message));
        }
        let _gate = self.inner.flush_gate.lock();
        if self.inner.poison.lock().is_none() {
            // Another caller resumed while this one waited for the gate.
            return Ok(Resumed::WalRestarted);
        }
        let last = self.freeze_everything();
        self.flush_frozen_up_to(last, false)?;
        self.record_producers_as_of(last)?;
        self.inner.wal.restart(last)?;
        self.inner.wal.remove_obsolete(last)?;
        {
            let mut p = self.inner.poison.lock();
            if p.as_ref().is_some_and(|p| !p.resumable) {
                // A failure that needs a reopen happened meanwhile.
                return Err(Error::Poisoned(p.as_ref().map(|p| p.message.clone()).unwrap_or_default()));
            }
            *p = None;
        }
        self.inner.flusher.succeeded();
        self.inner.counters.resumes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(seq = last, "writes resumed: memtables flushed and the WAL restarted on a new segment");
        self.notify_progress();
        Ok(Resumed::WalRestarted)
    }

    /// True unless the database is refusing writes for a failure only a reopen clears.
    pub(super) fn resumable(&self) -> bool {
        self.inner.poison.lock().as_ref().is_none_or(|p| p.resumable)
    }

    /// Freezes every non-empty active memtable at the last assigned seq, which it returns.
    fn freeze_everything(&self) -> u64 {
        let w = self.inner.writes.lock();
        let ids: Vec<FamilyId> = self.current().families.keys().copied().collect();
        self.freeze(&ids, w.last_seq());
        w.last_seq()
    }

    /// Records the producers' marks as of `seq` once the rows up to it are in SSTables.
    fn record_producers_as_of(&self, seq: u64) -> Result<()> {
        let _persisting = self.inner.producer_persist.lock();
        let delta = {
            let mut w = self.inner.writes.lock();
            w.producers_mut().expire(crate::clock::now_ms());
            w.producers_mut().take_delta()
        };
        let edit = Edit::Producers { as_of_seq: seq, set: delta.set.clone(), forget: delta.forget.clone() };
        if let Err(e) = self.commit_files(vec![edit], &[]) {
            self.restore_producer_delta(delta);
            return Err(e);
        }
        Ok(())
    }
}
