//! The writer thread: group commit, segment rotation, sync policy, poisoning.
//!
//! The thread blocks on the queue, then drains everything already queued into one buffer and
//! hands it to the OS with a single `write(2)` (more than one only when the buffer passes
//! [`MAX_BATCH_BYTES`] or a segment fills up). Under [`SyncPolicy::Always`] one `fdatasync(2)`
//! then covers the whole group, and the highest seq of the group is published to every waiter
//! at once. Under `Interval(d)` it syncs when `d` has passed since the last sync, also from a
//! timer when idle; under `None` only on [`Msg::Sync`], [`Msg::Close`] and segment rotation.
//!
//! A closed segment is always `fdatasync`ed when the writer rotates away from it (whatever the
//! policy), and the directory is `fsync`ed after a segment is created, so that `sync()` only
//! ever has to sync the active segment.
//!
//! The first failed write or sync poisons the log (see [`Wal`](super::Wal)); the thread then
//! drains the queue without writing anything, so that blocked appenders and waiters all get
//! the error.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::error::{Error, FailedOp};
use super::format::{SegmentHeader, encode_record};
use super::segment::{SegmentInfo, segment_path};
use super::state::{Poison, QUEUE_OVERHEAD, Shared};
use crate::fs::{Fs, WritableFile};
use crate::options::SyncPolicy;

/// Buffered bytes after which the writer writes in the middle of draining the queue.
pub(super) const MAX_BATCH_BYTES: usize = 4 << 20;

/// A message to the writer thread.
#[derive(Debug)]
pub(super) enum Msg {
    /// Append one record.
    Record {
        /// Its seq.
        seq: u64,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// Write and `fdatasync` everything before this message, then reply.
    Sync(Sender<Result<(), Error>>),
    /// Like `Sync`, then stop.
    Close(Sender<Result<(), Error>>),
    /// Close the active segment when every record in it (and queued before this message) has
    /// seq `<= upto`, so that it can be deleted; the next record starts a new segment. Replies
    /// whether it was closed.
    Retire {
        /// Every record up to this seq is persisted elsewhere.
        upto: u64,
        /// Where the answer goes.
        reply: Sender<Result<bool, Error>>,
    },
}

/// The segment being appended to.
struct Active {
    file: Box<dyn WritableFile>,
    path: PathBuf,
    /// Bytes already written to the file.
    size: u64,
    /// Last seq written or buffered for this segment.
    last_seq: u64,
}

/// Owned by the writer thread.
pub(super) struct Writer {
    fs: Fs,
    dir: PathBuf,
    segment_size: u64,
    policy: SyncPolicy,
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    next_number: u64,
    active: Option<Active>,
    buf: Vec<u8>,
    /// Queue bytes to release once `buf` is written.
    buffered_cost: usize,
    /// Highest seq in `buf` (or written).
    buffered_seq: u64,
    written_seq: u64,
    synced_seq: u64,
    last_sync: Instant,
    poisoned: Option<Poison>,
}

/// Marks the writer stopped when the thread ends, by return or by panic.
struct StopGuard(Arc<Shared>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poison(Poison {
                op: FailedOp::Write,
                path: PathBuf::new(),
                source: Arc::new(io::Error::other("WAL writer thread panicked")),
            });
        }
        self.0.stop();
    }
}

impl Writer {
    /// A writer that creates segment `next_number` on its first record; `seq` is the highest
    /// seq already durable (from replay).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        fs: Fs,
        dir: &Path,
        segment_size: u64,
        policy: SyncPolicy,
        shared: Arc<Shared>,
        rx: Receiver<Msg>,
        next_number: u64,
        seq: u64,
    ) -> Self {
        Writer {
            fs,
            dir: dir.to_path_buf(),
            segment_size,
            policy,
            shared,
            rx,
            next_number,
            active: None,
            buf: Vec::new(),
            buffered_cost: 0,
            buffered_seq: seq,
            written_seq: seq,
            synced_seq: seq,
            last_sync: Instant::now(),
            poisoned: None,
        }
    }

    /// The thread body: runs until `Close` or until every sender is gone.
    pub(super) fn run(mut self) {
        let _guard = StopGuard(Arc::clone(&self.shared));
        while let Some(first) = self.next_message() {
            if self.handle_group(first) {
                return;
            }
        }
        let _ = self.flush_and_sync();
    }

    /// Waits for the next message; under `Interval` with unsynced data, syncs when the interval
    /// runs out while idle.
    fn next_message(&mut self) -> Option<Msg> {
        loop {
            let due = match self.policy {
                SyncPolicy::Interval(d) if self.written_seq > self.synced_seq && self.poisoned.is_none() => {
                    d.saturating_sub(self.last_sync.elapsed())
                }
                _ => return self.rx.recv().ok(),
            };
            match self.rx.recv_timeout(due) {
                Ok(msg) => return Some(msg),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.sync_active();
                    self.publish();
                }
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Handles `first` and everything queued behind it as one group. Returns true on `Close`.
    fn handle_group(&mut self, first: Msg) -> bool {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Record { seq, payload } => {
                    self.add_record(seq, &payload);
                    if self.buf.len() >= MAX_BATCH_BYTES {
                        let _ = self.write_buf();
                    }
                }
                Msg::Sync(reply) => {
                    let _ = reply.send(self.flush_and_sync());
                }
                Msg::Close(reply) => {
                    let _ = reply.send(self.flush_and_sync());
                    return true;
                }
                Msg::Retire { upto, reply } => {
                    let _ = reply.send(self.retire(upto));
                }
            }
            next = self.rx.try_recv().ok();
        }
        let _ = self.write_buf();
        let sync_due = match self.policy {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
            SyncPolicy::None => false,
        };
        if sync_due {
            let _ = self.sync_active();
        }
        self.publish();
        false
    }

    fn publish(&self) {
        self.shared.publish(self.written_seq, self.synced_seq);
    }

    /// Buffers one record, rotating or creating the segment first when needed.
    fn add_record(&mut self, seq: u64, payload: &[u8]) {
        let cost = payload.len() + QUEUE_OVERHEAD;
        if self.poisoned.is_some() {
            self.shared.release(cost);
            return;
        }
        let full = self.active.as_ref().is_some_and(|a| a.size + self.buf.len() as u64 >= self.segment_size);
        let ready = if full {
            self.rotate(seq)
        } else if self.active.is_none() {
            self.create(seq)
        } else {
            Ok(())
        };
        if ready.is_err() {
            self.shared.release(cost);
            return;
        }
        encode_record(&mut self.buf, seq, payload);
        self.buffered_cost += cost;
        self.buffered_seq = seq;
        if let Some(a) = self.active.as_mut() {
            a.last_seq = seq;
        }
    }

    /// Writes the buffer and the directory entry of a new segment, `fdatasync`s the old one and
    /// marks it closed, then creates the next segment starting at `first_seq`.
    fn rotate(&mut self, first_seq: u64) -> Result<(), Error> {
        self.write_buf()?;
        self.sync_active()?;
        self.close_active();
        self.create(first_seq)
    }

    /// Closes the active segment (written, `fdatasync`ed, marked closed) when its last record,
    /// and every buffered one, has seq `<= upto`; the next record creates a new segment.
    fn retire(&mut self, upto: u64) -> Result<bool, Error> {
        let Some(active) = self.active.as_ref() else { return Ok(false) };
        if active.last_seq > upto || self.buffered_seq > upto {
            return Ok(false);
        }
        self.flush_and_sync()?;
        self.close_active();
        Ok(true)
    }

    /// Marks the active segment closed in the live list (its size and last seq final); the next
    /// record creates a new one. The caller has written and synced it.
    fn close_active(&mut self) {
        if let Some(old) = self.active.take() {
            let mut segments = self.shared.segments.lock();
            if let Some(info) = segments.active_mut() {
                info.active = false;
                info.size = old.size;
                info.last_seq = Some(old.last_seq);
            }
        }
    }

    /// Creates the next segment file, `fsync`s the directory, and buffers the header.
    fn create(&mut self, first_seq: u64) -> Result<(), Error> {
        let number = self.next_number;
        let path = segment_path(&self.dir, number);
        let file = self.fs.create_new(&path);
        let file = self.check(file, FailedOp::Create, &path)?;
        let dir_sync = self.fs.sync_dir(&self.dir);
        let dir = self.dir.clone();
        self.check(dir_sync, FailedOp::SyncDir, &dir)?;
        self.next_number += 1;
        SegmentHeader { number, first_seq }.encode(&mut self.buf);
        self.shared.segments.lock().push(SegmentInfo {
            number,
            path: path.clone(),
            size: 0,
            first_seq: Some(first_seq),
            last_seq: None,
            active: true,
        });
        self.active = Some(Active { file, path, size: 0, last_seq: first_seq });
        Ok(())
    }

    /// Hands the buffer to the OS in one `write` call and releases its queue budget.
    fn write_buf(&mut self) -> Result<(), Error> {
        let cost = std::mem::take(&mut self.buffered_cost);
        if let Some(p) = &self.poisoned {
            self.buf.clear();
            self.shared.release(cost);
            return Err(p.to_error());
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = match self.active.as_mut() {
            Some(a) => a.file.write_all(&self.buf).map(|()| a.path.clone()),
            None => Err(io::Error::other("WAL writer has no active segment")),
        };
        let len = self.buf.len() as u64;
        self.buf.clear();
        self.shared.release(cost);
        let path = self.active.as_ref().map(|a| a.path.clone()).unwrap_or_default();
        self.check(result, FailedOp::Write, &path)?;
        self.shared.metrics.record_written(len);
        if let Some(a) = self.active.as_mut() {
            a.size += len;
            let mut segments = self.shared.segments.lock();
            if let Some(info) = segments.active_mut() {
                info.size = a.size;
                info.last_seq = Some(a.last_seq);
            }
        }
        self.written_seq = self.buffered_seq;
        Ok(())
    }

    /// `fdatasync`s the active segment if anything written is not yet synced.
    ///
    /// Never retried after a failure: see the poisoning note on [`Wal`](super::Wal).
    fn sync_active(&mut self) -> Result<(), Error> {
        if let Some(p) = &self.poisoned {
            return Err(p.to_error());
        }
        if self.written_seq <= self.synced_seq {
            return Ok(());
        }
        if let Some(a) = self.active.as_mut() {
            let started = Instant::now();
            let result = a.file.sync_data();
            let path = a.path.clone();
            self.check(result, FailedOp::Sync, &path)?;
            self.shared.metrics.record_sync(started.elapsed());
        }
        self.synced_seq = self.written_seq;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Writes and syncs everything so far and publishes it (for `Sync` and `Close`).
    fn flush_and_sync(&mut self) -> Result<(), Error> {
        let result = self.write_buf().and_then(|()| self.sync_active());
        self.publish();
        result
    }

    /// Passes `Ok` through; turns an error into the poison (the first one wins).
    fn check<T>(&mut self, r: io::Result<T>, op: FailedOp, path: &Path) -> Result<T, Error> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => {
                let poison =
                    self.poisoned.get_or_insert_with(|| Poison { op, path: path.to_path_buf(), source: Arc::new(e) });
                let poison = poison.clone();
                tracing::error!(
                    op = %poison.op,
                    path = %poison.path.display(),
                    error = %poison.source,
                    "WAL writer failed; the log is poisoned until reopened"
                );
                self.shared.poison(poison.clone());
                Err(poison.to_error())
            }
        }
    }
}
