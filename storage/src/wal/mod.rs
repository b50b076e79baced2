//! The write-ahead log: one segmented log per database, written by a group-commit thread.
//!
//! Every write batch is appended here (as an opaque payload with the engine's sequence number)
//! before it reaches a memtable; after a crash, [`Wal::replay`] hands back every record newer
//! than what the SSTables hold. Once a flush has persisted everything up to some seq, the
//! engine calls [`Wal::remove_obsolete`].
//!
//! ```no_run
//! # use isobar_storage::wal::{Wal, WalOptions};
//! # use isobar_storage::{SyncPolicy, WalRecovery};
//! # fn main() -> isobar_storage::Result<()> {
//! let opts = WalOptions { segment_size: 64 << 20, sync: SyncPolicy::Always, recovery: WalRecovery::Strict };
//! let wal = Wal::open(std::path::Path::new("data/wal"), opts)?;
//! wal.replay(0, |_seq, _payload| Ok(()))?; // apply each record to the memtables
//! wal.append(1, b"batch".to_vec())?;
//! wal.wait_durable(1)?; // fsynced: safe to acknowledge
//! wal.close()?;
//! # Ok(()) }
//! ```
//!
//! # Files
//!
//! `dir/NNNNNNNNNNNNNNNNNNNN.wal`: the segment number, zero-padded to 20 digits. The writer starts
//! a new segment once the active one has reached `segment_size` bytes, and always a new one
//! after a replay (it never appends behind a truncated tail). A segment is created with its first
//! record, so that its header can carry that record's seq.
//!
//! # Byte layout (format version 1, all integers little-endian)
//!
//! ```text
//! segment = header record*
//!
//! header (32 bytes)
//! offset  size  field
//!  0      8     magic           "IsobWAL\0" (49 73 6f 62 57 41 4c 00)
//!  8      2     version         u16 = 1
//! 10      2     reserved        u16 = 0 (ignored on read)
//! 12      8     segment number  u64, must equal the number in the file name
//! 20      8     first seq       u64, seq of the segment's first record
//! 28      4     header crc      u32, CRC-32C of bytes 0..28
//!
//! record (16 + len bytes)
//! offset  size  field
//!  0      4     len             u32, payload length, at most 256 MiB
//!  4      4     crc             u32, CRC-32C (Castagnoli, unmasked) of bytes 0..4 (len),
//!                               then 8..16 (seq), then the payload
//!  8      8     seq             u64, the engine's sequence number
//! 16      len   payload         opaque bytes (the engine's encoded write batch)
//! ```
//!
//! The record checksum covers the length as well as seq and payload, so a damaged length is
//! caught even when it happens to frame a plausible range. It is stored unmasked: no payload
//! embeds checksums of itself, which is the case masking protects against. Lengths above
//! [`MAX_RECORD_LEN`] (256 MiB) or past the end of the file are
//! corruption and are never used to size an allocation (recovery reads a segment whole and
//! slices it with checked reads). Within a segment seqs strictly increase, and the first
//! record's seq equals the header's `first seq`.
//!
//! # Durability and group commit
//!
//! [`Wal::append`] queues the record for the writer thread and returns at once; the queue is
//! bounded by bytes ([`MAX_QUEUED_BYTES`]), so a fast producer blocks
//! instead of growing memory. The writer drains whatever is queued, writes it with one
//! `write(2)`, and under [`SyncPolicy::Always`] covers the whole group with one `fdatasync(2)`
//! before publishing; [`Wal::wait_durable`] waiters all wake together. `Interval(d)` and `None`
//! publish after the `write(2)` (durable against a process crash, not power loss).
//!
//! # Poisoning (why a failed fsync is never retried)
//!
//! The first failed write or `fdatasync` poisons the log: that error, with its original OS
//! reason, is returned to every waiter and every later `append`, `sync` and `close`, and the
//! writer never touches the file again. Retrying is unsafe: after a failed `fsync` Linux may
//! mark the dirty pages clean and drop the error, so a second `fsync` "succeeds" although the
//! data never reached the disk (PostgreSQL's 2018 "fsyncgate"; since then it panics and recovers
//! from its WAL instead). One safe way on is to reopen and replay from what is on disk. The
//! other, which the engine uses to recover without a restart, never touches the failed file
//! again either: once every record up to the last appended one is persisted elsewhere (the
//! engine flushes its memtables to SSTables), [`Wal::restart`] retires the failed segment and
//! starts a new writer on a new segment.

// Map: `format` (byte layout, encode and checked decode), `segment` (names, listing, live list),
// `reader` (scanning one segment, resync), `replay` (recovery policy: torn tail, corruption),
// `writer` (the group-commit thread), `state` (what handle and writer share), `restart` (a new
// writer after a failure, for the engine's recovery), `error`.
mod error;
pub mod format;
mod metrics;
mod reader;
mod replay;
mod restart;
mod segment;
mod state;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};

pub use error::{CorruptReason, Error, FailedOp, SeqExpectation};
pub use metrics::WalMetrics;
pub use replay::ReplayStats;
pub use segment::{SegmentInfo, segment_file_name};
pub use state::MAX_QUEUED_BYTES;

use crate::fs::Fs;
use crate::options::{SyncPolicy, WalRecovery};
use format::MAX_RECORD_LEN;
use state::{QUEUE_OVERHEAD, Shared};
use writer::{Msg, Writer};

/// Records the queue holds at most (on top of the byte bound).
const QUEUE_RECORDS: usize = 1 << 16;

/// How the WAL is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// Size at which the writer starts a new segment.
    pub segment_size: u64,
    /// When an appended record counts as durable.
    pub sync: SyncPolicy,
    /// What replay does with corruption that is not a torn tail.
    pub recovery: WalRecovery,
}

/// A handle to the write-ahead log. `Send + Sync`; share it behind an `Arc`.
///
/// Lifecycle: [`open`](Wal::open), then [`replay`](Wal::replay) exactly once (it starts the
/// writer thread), then any number of [`append`](Wal::append)s, then [`close`](Wal::close)
/// (dropping the handle closes it too, ignoring errors).
///
/// The first failed write or `fdatasync` poisons the log: every waiter and every later call
/// gets that same [`Error::Failed`] with the original OS error, and the writer never writes or
/// syncs again. A failed `fsync` is never retried, because Linux may already have dropped the
/// dirty pages and cleared the error, so a retry would "succeed" without the data on disk
/// (PostgreSQL's fsync-gate, 2018). Recovery is: reopen and replay what is on disk.
#[derive(Debug)]
pub struct Wal {
    fs: Fs,
    dir: PathBuf,
    opts: WalOptions,
    shared: Arc<Shared>,
    /// Set by replay (and replaced by [`Wal::restart`]); the channel to the writer thread.
    tx: RwLock<Option<Sender<Msg>>>,
    /// Serialises appends so that the queue order is the seq order; holds the last seq.
    append_lock: Mutex<u64>,
    /// The last appended seq, readable without `append_lock`.
    last_appended: AtomicU64,
    replayed: Mutex<bool>,
    closed: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Wal {
    /// Opens the WAL in `dir`, creating the directory if missing. Does not start writing yet:
    /// call [`replay`](Wal::replay) next.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Wal, Error> {
        Self::open_in(Fs::os(), dir, opts)
    }

    /// [`Wal::open`] with every file operation going through `fs`.
    pub fn open_in(fs: Fs, dir: &Path, opts: WalOptions) -> Result<Wal, Error> {
        fs.create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        segment::list_segments(&*fs, dir)?;
        Ok(Wal {
            fs,
            dir: dir.to_path_buf(),
            opts,
            shared: Arc::new(Shared::default()),
            tx: RwLock::new(None),
            append_lock: Mutex::new(0),
            last_appended: AtomicU64::new(0),
            replayed: Mutex::new(false),
            closed: AtomicBool::new(false),
            thread: Mutex::new(None),
        })
    }

    /// Reads every segment in order and calls `f(seq, payload)` for each intact record with
    /// `seq > after_seq`, in log order.
    ///
    /// A torn tail (what a crash mid-append leaves at the end of the last segment) is truncated
    /// away with a warning; other corruption is [`Error::Corrupt`] under
    /// [`WalRecovery::Strict`] or skipped with a warning under `SkipCorrupt` (details in the
    /// `replay` module). Must be called once, before the first append; afterwards the WAL
    /// appends to a new segment. Appends must use seqs above both `after_seq` and the last seq
    /// found. On an error, records before the failure point have already been handed to `f`:
    /// the caller should discard what it built and not use this handle further.
    pub fn replay(
        &self,
        after_seq: u64,
        mut f: impl FnMut(u64, &[u8]) -> crate::Result<()>,
    ) -> crate::Result<ReplayStats> {
        let mut replayed = self.replayed.lock();
        if *replayed {
            return Err(Error::AlreadyReplayed.into());
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed.into());
        }
        let recovered = replay::replay_dir(&*self.fs, &self.dir, self.opts.recovery, after_seq, &mut f)?;
        let seq = recovered.stats.last_seq.unwrap_or(0).max(after_seq);
        {
            let mut segments = self.shared.segments.lock();
            for info in recovered.segments {
                segments.push(info);
            }
        }
        self.shared.publish(seq, seq);
        *self.append_lock.lock() = seq;
        self.last_appended.store(seq, Ordering::Release);
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_RECORDS);
        let writer = Writer::new(
            self.fs.clone(),
            &self.dir,
            self.opts.segment_size,
            self.opts.sync,
            Arc::clone(&self.shared),
            rx,
            recovered.next_number,
            seq,
        );
        let handle = std::thread::Builder::new()
            .name("isobar-wal-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| Error::io(&self.dir, e))?;
        *self.thread.lock() = Some(handle);
        *self.tx.write() = Some(tx);
        *replayed = true;
        Ok(recovered.stats)
    }

    /// Queues a record for the writer thread and returns without waiting for the disk. Records
    /// are written in call order; `seq` must be above every earlier one. Blocks while the queue
    /// is full (back-pressure).
    pub fn append(&self, seq: u64, payload: Vec<u8>) -> Result<(), Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if payload.len() > MAX_RECORD_LEN {
            return Err(Error::RecordTooLarge { len: payload.len(), max: MAX_RECORD_LEN });
        }
        let mut last = self.append_lock.lock();
        let tx = self.tx.read();
        let Some(tx) = tx.as_ref() else {
            return Err(Error::NotReplayed);
        };
        if seq <= *last {
            return Err(Error::SeqNotIncreasing { last: *last, got: seq });
        }
        if self.shared.is_dead() {
            return Err(self.shared.dead_error());
        }
        let cost = payload.len() + QUEUE_OVERHEAD;
        if !self.shared.reserve(cost) {
            return Err(self.shared.dead_error());
        }
        if tx.send(Msg::Record { seq, payload }).is_err() {
            self.shared.release(cost);
            return Err(self.shared.dead_error());
        }
        *last = seq;
        self.last_appended.store(seq, Ordering::Release);
        self.shared.metrics.record_append(cost - QUEUE_OVERHEAD);
        Ok(())
    }

    /// Blocks until the record `seq` is durable per the sync policy: under `Always` written and
    /// `fdatasync`ed (in a group commit); under `Interval` and `None` written to the OS. Returns
    /// the writer's error if the write or sync failed, [`Error::Closed`] if the WAL closed
    /// before, and [`Error::SeqNotIncreasing`] right away for a seq that was never appended.
    pub fn wait_durable(&self, seq: u64) -> Result<(), Error> {
        let last = self.last_appended.load(Ordering::Acquire);
        if seq > last {
            return Err(Error::SeqNotIncreasing { last, got: seq });
        }
        let mut p = self.shared.progress.lock();
        loop {
            if p.durable(self.opts.sync) >= seq {
                return Ok(());
            }
            if let Some(poison) = &p.poison {
                return Err(poison.to_error());
            }
            if p.stopped {
                return Err(Error::Closed);
            }
            self.shared.progress_changed.wait(&mut p);
        }
    }

    /// Returns once everything appended so far is written and `fdatasync`ed, whatever the
    /// policy. After a clean close this is `Ok` (close synced everything).
    pub fn sync(&self) -> Result<(), Error> {
        let Some(tx) = self.tx.read().clone() else {
            return Ok(());
        };
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        if tx.send(Msg::Sync(reply_tx)).is_err() {
            return self.after_stop();
        }
        match reply_rx.recv() {
            Ok(result) => result,
            Err(_) => self.after_stop(),
        }
    }

    /// Closes the active segment when every record in it has seq `<= seq` (all of it is
    /// persisted elsewhere), so that [`Wal::remove_obsolete`] can delete it instead of keeping up
    /// to `segment_size` bytes of flushed records on disk; the next append starts a new segment.
    /// Returns whether it closed one. (RocksDB likewise switches to a new log file when a flush
    /// covers the current one.)
    pub fn retire_active(&self, seq: u64) -> Result<bool, Error> {
        let Some(tx) = self.tx.read().clone() else {
            return Ok(false);
        };
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        if tx.send(Msg::Retire { upto: seq, reply: reply_tx }).is_err() {
            return self.after_stop().map(|()| false);
        }
        match reply_rx.recv() {
            Ok(result) => result,
            Err(_) => self.after_stop().map(|()| false),
        }
    }

    /// Deletes every closed segment whose records all have seq `<= seq` (and closed segments
    /// holding no records); never the active one. Returns how many files were deleted.
    pub fn remove_obsolete(&self, seq: u64) -> Result<usize, Error> {
        let mut segments = self.shared.segments.lock();
        let mut obsolete = segments.take_obsolete(seq).into_iter();
        let mut removed = 0;
        while let Some(info) = obsolete.next() {
            if let Err(e) = self.fs.remove_file(&info.path) {
                let mut back = vec![info.clone()];
                back.extend(obsolete);
                segments.restore(back);
                return Err(Error::io(info.path, e));
            }
            removed += 1;
        }
        drop(segments);
        if removed > 0 {
            self.fs.sync_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        }
        Ok(removed)
    }

    /// Appends, bytes and syncs since the WAL was opened.
    pub fn metrics(&self) -> WalMetrics {
        self.shared.metrics.read()
    }

    /// The highest seq that is durable per the sync policy.
    pub fn durable_seq(&self) -> u64 {
        self.shared.progress.lock().durable(self.opts.sync)
    }

    /// The highest seq made durable with `fdatasync`, whatever the policy (equal to
    /// [`durable_seq`](Wal::durable_seq) under `Always`; under `Interval` it trails by at most
    /// the interval while appends continue, and catches up on a timer when idle).
    pub fn synced_seq(&self) -> u64 {
        self.shared.progress.lock().synced
    }

    /// Writes and syncs everything appended, then stops the writer thread. Later appends fail
    /// with [`Error::Closed`]. Calling it again returns `Ok` (or the poison).
    pub fn close(&self) -> Result<(), Error> {
        self.closed.store(true, Ordering::Release);
        let Some(handle) = self.thread.lock().take() else {
            return self.after_stop();
        };
        let tx = self.tx.read().clone();
        let result = match tx {
            Some(tx) => {
                let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
                match tx.send(Msg::Close(reply_tx)) {
                    Ok(()) => reply_rx.recv().unwrap_or_else(|_| self.after_stop()),
                    Err(_) => self.after_stop(),
                }
            }
            None => Ok(()),
        };
        let joined = handle.join();
        match (result, joined) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(_)) => Err(self.shared.dead_error()),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    /// Sizes and names of the live segments, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.shared.segments.lock().infos()
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Result of an operation that found the writer gone: the poison, or `Ok` after a clean
    /// stop.
    fn after_stop(&self) -> Result<(), Error> {
        match &self.shared.progress.lock().poison {
            Some(p) => Err(p.to_error()),
            None => Ok(()),
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
