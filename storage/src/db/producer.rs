//! Writes of idempotent producers, resume, and persisting the producer table with flushes (the
//! design is in [`crate::producer`]).

use std::sync::atomic::Ordering;

use super::Db;
use super::record::Stamp;
use super::write::Logged;
use super::write_path::WriteState;
use crate::batch::WriteBatch;
use crate::clock::now_ms;
use crate::error::{InvalidInput, Result};
use crate::manifest::Edit;
use crate::producer::table::Delta;
use crate::producer::{ProducerId, ProducerReceipt, ProducerState};

/// A producer write that is applied (or recognised as a duplicate) and not yet durable; see
/// [`Db::submit_as`]. Reads do not see it until it is durable.
#[derive(Debug)]
#[must_use = "a pending write is acknowledged only once `wait` returns"]
pub struct PendingWrite {
    db: Db,
    logged: Logged,
}

impl PendingWrite {
    /// True when the producer's mark already covered the write and nothing was applied.
    pub fn is_duplicate(&self) -> bool {
        self.logged.duplicate
    }

    /// Waits until the write (for a duplicate: the write that applied the producer's mark) is
    /// durable as the sync policy promises.
    pub fn wait(self) -> Result<ProducerReceipt> {
        self.db.wait_logged(&self.logged)?;
        Ok(ProducerReceipt {
            applied: (!self.logged.duplicate).then_some(self.logged.receipt),
            applied_seq: self.logged.applied_seq,
        })
    }
}

impl Db {
    /// Writes `batch` as batch number `seq` of `producer`, exactly once: when `seq` is at or
    /// below the producer's highest applied seq, nothing is applied and the receipt says it was
    /// a duplicate; otherwise the batch is applied and `seq` becomes the producer's mark, in the
    /// same WAL record. Gaps are allowed. Returns once the write is durable (see [`Db::write`]).
    /// `seq` must be at least 1 ([`InvalidInput::ProducerSeqZero`]).
    pub fn write_as(&self, producer: &ProducerId, seq: u64, batch: impl Into<WriteBatch>) -> Result<ProducerReceipt> {
        self.submit_as(producer, seq, batch)?.wait()
    }

    /// [`Db::write_as`] without waiting for durability, so that one producer can have many writes
    /// in flight: each call applies (or skips) its batch in call order, then
    /// [`PendingWrite::wait`] waits. Callers that need "seq n applied before seq n+1" must call
    /// this in seq order (one thread per producer stream).
    pub fn submit_as(&self, producer: &ProducerId, seq: u64, batch: impl Into<WriteBatch>) -> Result<PendingWrite> {
        self.check_writable()?;
        if seq == 0 {
            return Err(InvalidInput::ProducerSeqZero { producer: producer.to_string() }.into());
        }
        let now = now_ms();
        // A duplicate is answered before validation: the batch was valid when it was applied.
        let dup = self.duplicate_of(&mut self.inner.writes.lock(), producer.as_str(), seq, now);
        let logged = match dup {
            Some(dup) => dup,
            None => {
                self.throttle()?;
                let stamp = Stamp { producer: producer.to_string(), seq, active_ms: now };
                self.log_write(batch.into(), Some(&stamp))?
            }
        };
        Ok(PendingWrite { db: self.clone(), logged })
    }

    /// What the engine knows of `producer`: its highest applied seq, once the write that applied
    /// it is durable, or unknown (never seen, or forgotten by age or count). Counts as activity.
    pub fn producer_state(&self, producer: &ProducerId) -> Result<ProducerState> {
        self.check_writable()?;
        let now = now_ms();
        let entry = {
            let mut w = self.inner.writes.lock();
            let entry = w.producers_mut().get(producer.as_str(), now);
            w.producers_mut().touch(producer.as_str(), now);
            entry
        };
        let Some(entry) = entry else { return Ok(ProducerState { applied_seq: 0, known: false }) };
        let logged = Logged { wal_seq: entry.wal_seq, receipt: Default::default(), duplicate: true, applied_seq: 0 };
        self.wait_logged(&logged)?;
        Ok(ProducerState { applied_seq: entry.applied_seq, known: true })
    }

    /// Forgets producers idle past the ttl (and past the cap) now, recording it with the next
    /// flush; returns how many. Expiry also happens on every flush and lookup.
    pub fn expire_producers(&self) -> usize {
        self.inner.writes.lock().producers_mut().expire(now_ms())
    }

    /// The duplicate answer for `seq` of `producer` when its mark covers it (counting the
    /// duplicate and the activity), or `None` when the write must be applied.
    pub(super) fn duplicate_of(&self, w: &mut WriteState, producer: &str, seq: u64, now: u64) -> Option<Logged> {
        let entry = w.producers_mut().get(producer, now)?;
        if seq > entry.applied_seq {
            return None;
        }
        w.producers_mut().touch(producer, now);
        self.inner.counters.producer_duplicates.fetch_add(1, Ordering::Relaxed);
        Some(Logged {
            wal_seq: entry.wal_seq,
            receipt: Default::default(),
            duplicate: true,
            applied_seq: entry.applied_seq,
        })
    }

    /// Refuses a write that would create a producer past its owner's cap
    /// (`max_producers_per_owner`), under the write lock so that racing writes cannot pass it.
    pub(super) fn admit_producer(&self, w: &WriteState, stamp: Option<&Stamp>) -> Result<()> {
        let Some(st) = stamp else { return Ok(()) };
        w.producers()
            .admit_new(&st.producer)
            .map_err(|(count, max)| InvalidInput::TooManyProducers { count, max }.into())
    }

    /// Takes the producer table's changes (after expiring idle producers) as a manifest edit
    /// complete up to the last assigned sequence number, and syncs the WAL up to there, so the
    /// edit never records a mark whose data could still be lost. The caller holds
    /// `producer_persist` until the edit is written, and hands the delta back to
    /// [`Db::restore_producer_delta`] if writing fails.
    pub(super) fn producer_edit(&self) -> Result<(Edit, Delta)> {
        let (delta, as_of) = {
            let mut w = self.inner.writes.lock();
            w.producers_mut().expire(now_ms());
            (w.producers_mut().take_delta(), w.last_seq())
        };
        if let Err(e) = self.inner.wal.sync() {
            self.restore_producer_delta(delta);
            return Err(e.into());
        }
        let edit = Edit::Producers { as_of_seq: as_of, set: delta.set.clone(), forget: delta.forget.clone() };
        Ok((edit, delta))
    }

    /// Marks a delta that did not reach the manifest as pending again.
    pub(super) fn restore_producer_delta(&self, delta: Delta) {
        self.inner.writes.lock().producers_mut().restore(delta);
    }
}
