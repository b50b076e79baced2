//! The write path: validate, log, insert, and keep memory bounded.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::MutexGuard;

use super::Db;
use super::record::{self, Stamp};
use super::write_path::WriteState;
use crate::batch::{WriteBatch, WriteReceipt};
use crate::catalog::{LoggedSeries, Validated, expired_rows, validate_batch};
use crate::clock::now_ns;
use crate::error::{InvalidInput, Result};
use crate::manifest::Edit;
use crate::memtable::{ColumnInput, Memtable};
use crate::schema::FamilyId;
use crate::version::{Frozen, SuperVersion};

/// A write handed to the WAL, or recognised as a producer's duplicate; durable once the WAL
/// record `wal_seq` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Logged {
    /// The WAL record to wait for (for a duplicate: the one that applied the producer's mark).
    pub(super) wal_seq: u64,
    /// The receipt of an applied write (all zero for a duplicate).
    pub(super) receipt: WriteReceipt,
    /// True when the producer's mark already covered the write and nothing was applied.
    pub(super) duplicate: bool,
    /// The producer's mark after the write (0 without a producer).
    pub(super) applied_seq: u64,
}

impl Logged {
    /// The same, with `expired` rows past their TTL noted in the receipt.
    fn with_expired(mut self, expired: usize) -> Self {
        self.receipt.expired_rows = expired;
        self
    }
}

impl Db {
    /// Writes `batch` atomically. When this returns `Ok`, the write is durable as the configured
    /// [`SyncPolicy`](crate::SyncPolicy) promises and visible to every later read. A rejected
    /// batch (`Err(Error::Invalid)`) changes nothing. When memtables hold more than the memory
    /// budget, the call waits for flushes and fails with [`Error::Overloaded`](crate::Error::Overloaded) past
    /// `write_stall_timeout` ([`Error::DiskFull`](crate::Error::DiskFull) with `resumes: true` when flushes fail because
    /// the disk is full). When the WAL cannot be written or synced the write is not acknowledged
    /// (`Error::Wal`, or `Error::DiskFull` with `resumes: false`) and every later write fails with
    /// [`Error::Poisoned`](crate::Error::Poisoned) until the database is reopened (see `docs/faults.md`).
    pub fn write(&self, batch: impl Into<WriteBatch>) -> Result<WriteReceipt> {
        self.check_writable()?;
        self.throttle()?;
        let logged = self.log_write(batch.into(), None)?;
        self.wait_logged(&logged)?;
        Ok(logged.receipt)
    }

    /// Validates, logs and applies `batch` (stamped with a producer's seq when `stamp` is set)
    /// without waiting for durability. A stamped write whose seq is at or below its producer's
    /// mark is not applied: the result is then marked `duplicate` with an empty receipt.
    pub(super) fn log_write(&self, batch: WriteBatch, stamp: Option<&Stamp>) -> Result<Logged> {
        let start = Instant::now();
        let seen = self.current();
        if touches_dynamic_table(&seen, &batch) {
            return self.write_dynamic(batch, start, stamp);
        }
        // Validation and encoding read an immutable catalog version and need no lock, so
        // concurrent writers do them in parallel; the lock covers seq, WAL hand-off and inserts.
        let validated = validate_batch(&seen.tables, batch, &self.inner.opts.limits)?;
        let expired = expired_rows(&seen.tables, &validated, now_ns(), self.inner.opts.refuse_expired_writes)?;
        let payload = encode_payload(&validated, stamp);
        let mut w = self.inner.writes.lock();
        self.check_writable()?;
        if let Some(dup) = stamp.and_then(|st| self.duplicate_of(&mut w, &st.producer, st.seq, st.active_ms)) {
            return Ok(dup);
        }
        self.admit_producer(&w, stamp)?;
        let sv = self.current();
        if !Arc::ptr_eq(&sv.tables, &seen.tables) {
            still_valid(&seen, &sv, &validated.series)?;
        }
        self.commit_write(w, &sv, &validated, payload, start, stamp).map(|logged| logged.with_expired(expired))
    }

    /// The write path of batches that may add columns: validated under the write lock, because
    /// the new columns must be persisted before the write and get ids nobody else hands out.
    fn write_dynamic(&self, batch: WriteBatch, start: Instant, stamp: Option<&Stamp>) -> Result<Logged> {
        let mut w = self.inner.writes.lock();
        self.check_writable()?;
        if let Some(dup) = stamp.and_then(|st| self.duplicate_of(&mut w, &st.producer, st.seq, st.active_ms)) {
            return Ok(dup);
        }
        self.admit_producer(&w, stamp)?;
        let mut sv = self.current();
        let validated = validate_batch(&sv.tables, batch, &self.inner.opts.limits)?;
        let expired = expired_rows(&sv.tables, &validated, now_ns(), self.inner.opts.refuse_expired_writes)?;
        if !validated.changed_tables.is_empty() {
            let edits = validated.changed_tables.iter().cloned().map(Edit::ReplaceTable).collect();
            self.commit_tables(edits)?;
            sv = self.current();
        }
        let payload = encode_payload(&validated, stamp);
        self.commit_write(w, &sv, &validated, payload, start, stamp).map(|logged| logged.with_expired(expired))
    }

    /// Logs and applies a validated write under the write lock `w` (advancing the producer's
    /// mark in the same step when stamped); the caller waits for durability outside it.
    fn commit_write(
        &self,
        mut w: MutexGuard<'_, WriteState>,
        sv: &SuperVersion,
        validated: &Validated,
        payload: Vec<u8>,
        start: Instant,
        stamp: Option<&Stamp>,
    ) -> Result<Logged> {
        let seq = w.last_seq() + 1;
        let bytes = payload.len();
        self.inner.wal.append(seq, payload).map_err(|e| self.wal_failed(e))?;
        w.assign(seq);
        if let Some(st) = stamp {
            w.producers_mut().record(&st.producer, st.seq, st.active_ms, seq);
        }
        apply(sv, &validated.series, seq, |_| true);
        self.inner.writes.set_applied(seq);
        self.freeze_full(&w, sv);
        drop(w);
        self.inner.counters.record_write(validated.rows, validated.points, bytes, start.elapsed());
        Ok(Logged {
            wal_seq: seq,
            receipt: WriteReceipt { seq, rows: validated.rows, points: validated.points, expired_rows: 0 },
            duplicate: false,
            applied_seq: stamp.map_or(0, |st| st.seq),
        })
    }

    /// Waits until the WAL record a logged write depends on is durable; poisons the database
    /// when the WAL fails.
    pub(super) fn wait_logged(&self, logged: &Logged) -> Result<()> {
        if let Err(e) = self.inner.wal.wait_durable(logged.wal_seq) {
            return Err(self.wal_failed(e));
        }
        Ok(())
    }

    /// Freezes every active memtable over its size limit, and the largest one when all memtables
    /// together are near the budget with nothing frozen (so that memory can always be freed).
    /// Runs under the write lock, so no insert races with the switch.
    pub(super) fn freeze_full(&self, w: &WriteState, sv: &SuperVersion) {
        let limit = self.inner.opts.memtable_size;
        let mut full: Vec<FamilyId> =
            sv.families.iter().filter(|(_, f)| f.active.approximate_bytes() >= limit).map(|(id, _)| *id).collect();
        let nothing_frozen = sv.families.values().all(|f| f.frozen.is_empty());
        if full.is_empty() && nothing_frozen && sv.memtable_bytes() >= self.inner.opts.memtable_budget / 2 {
            full.extend(sv.families.iter().max_by_key(|(_, f)| f.active.approximate_bytes()).map(|(id, _)| *id));
        }
        if !full.is_empty() {
            self.freeze(&full, w.last_seq());
        }
    }

    /// Freezes the active memtables of `families` (skipping empty ones) and queues their flush.
    pub(super) fn freeze(&self, families: &[FamilyId], switch_seq: u64) {
        let mut queued = Vec::new();
        self.install(|sv| {
            for id in families {
                if let Some(f) = sv.families.get_mut(id)
                    && !f.active.is_empty()
                {
                    let old = std::mem::replace(&mut f.active, Arc::new(Memtable::new(*id)));
                    f.frozen.push(Frozen { mem: old, switch_seq });
                    queued.push(*id);
                }
            }
        });
        for id in queued {
            self.inner.flusher.queue(id);
        }
    }
}

/// The WAL payload of a validated write.
fn encode_payload(validated: &Validated, stamp: Option<&Stamp>) -> Vec<u8> {
    let mut payload = Vec::with_capacity(64 + validated.points * 9);
    record::encode(&validated.series, stamp, &mut payload);
    payload
}

/// True when a table the batch writes to allows new columns on write (in `sv`).
fn touches_dynamic_table(sv: &SuperVersion, batch: &WriteBatch) -> bool {
    let mut last: Option<&str> = None;
    for s in &batch.series {
        if last == Some(s.table.as_str()) {
            continue;
        }
        last = Some(&s.table);
        if sv.tables.get(&s.table).is_some_and(|t| t.dynamic_columns) {
            return true;
        }
    }
    false
}

/// Checks that a write validated against the catalog of `seen` still resolves in `now` (a
/// schema change landed in between). Ids are never reused and columns and families are never
/// removed from a live table, so a table, family and column found by id with the same type are
/// the ones the write named.
fn still_valid(seen: &SuperVersion, now: &SuperVersion, series: &[LoggedSeries]) -> Result<(), InvalidInput> {
    let name = |id| seen.table_by_id(id).map_or_else(String::new, |t| t.name.clone());
    for s in series {
        let Some(table) = now.table_by_id(s.table) else {
            return Err(InvalidInput::UnknownTable { table: name(s.table) });
        };
        for c in &s.columns {
            let ty = table.family_by_id(c.family).and_then(|f| f.stored_type(c.column));
            if ty.is_none_or(|ty| ty != c.values.column_type()) {
                let old = seen.table_by_id(s.table).and_then(|t| t.family_by_id(c.family));
                return Err(InvalidInput::UnknownColumn {
                    table: table.name.clone(),
                    family: old.map_or_else(String::new, |f| f.name.clone()),
                    column: old.and_then(|f| f.column_by_id(c.column)).map_or_else(String::new, |d| d.name.clone()),
                });
            }
        }
    }
    Ok(())
}

/// Inserts validated series into the active memtables of `sv`, for the families `wanted` accepts
/// (recovery skips families that already flushed past this record).
pub(super) fn apply(sv: &SuperVersion, series: &[LoggedSeries], seq: u64, wanted: impl Fn(FamilyId) -> bool) {
    // One buffer for the column views of every group, instead of an allocation per group.
    let mut inputs: Vec<ColumnInput<'_>> = Vec::new();
    for s in series {
        for group in s.columns.chunk_by(|a, b| a.family == b.family) {
            let Some(first) = group.first() else { continue };
            if !wanted(first.family) {
                continue;
            }
            let Some(family) = sv.families.get(&first.family) else { continue };
            inputs.clear();
            inputs.extend(group.iter().map(|c| ColumnInput {
                id: c.column,
                ty: c.values.column_type(),
                values: &c.values,
                validity: c.validity.as_deref(),
            }));
            family.active.insert(&s.series, &s.ts, seq, &inputs);
        }
    }
}
