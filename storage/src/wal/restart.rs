//! A new writer after a failure: how the engine brings a poisoned log back without a reopen.
//!
//! The failed segment is never written or synced again (see the poisoning note in the module
//! doc of [`wal`](super)): the caller first persists every record up to the last appended seq
//! somewhere else (the engine flushes its memtables to SSTables), then [`Wal::restart`] stops
//! the old writer, marks the failed segment closed (so that [`Wal::remove_obsolete`] deletes it
//! with the other segments the flush made obsolete), deletes any segment file a failed creation
//! left behind, and starts a new writer whose first record opens a new segment. Nothing is
//! re-appended: what the old segment may have lost is in the SSTables.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::error::Error;
use super::segment::{list_segments, segment_path};
use super::writer::{Msg, Writer};
use super::{QUEUE_RECORDS, Wal};

impl Wal {
    /// Replaces a poisoned writer with a new one that starts after `seq`, which must be at or
    /// above every appended seq and must already be persisted elsewhere: the new writer reports
    /// everything up to `seq` durable. Returns `Ok(false)` and changes nothing when the log is
    /// not poisoned. Appends wait while this runs.
    pub fn restart(&self, seq: u64) -> Result<bool, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let mut last = self.append_lock.lock();
        if !self.shared.is_poisoned() {
            return Ok(false);
        }
        if seq < *last {
            return Err(Error::SeqNotIncreasing { last: *last, got: seq });
        }
        self.stop_writer();
        let next_number = self.retire_segments(seq)?;
        self.shared.revive(seq);
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_RECORDS);
        let writer = Writer::new(
            self.fs.clone(),
            &self.dir,
            self.opts.segment_size,
            self.opts.sync,
            Arc::clone(&self.shared),
            rx,
            next_number,
            seq,
        );
        let handle = std::thread::Builder::new()
            .name("isobar-wal-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| Error::io(&self.dir, e))?;
        *self.thread.lock() = Some(handle);
        *self.tx.write() = Some(tx);
        *last = seq;
        self.last_appended.store(seq, Ordering::Release);
        tracing::info!(seq, next_segment = next_number, "WAL writer restarted on a new segment");
        Ok(true)
    }

    /// Stops the old writer (it answers with its poison) and waits for its thread.
    fn stop_writer(&self) {
        let tx = self.tx.write().take();
        if let Some(tx) = tx {
            let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
            if tx.send(Msg::Close(reply_tx)).is_ok() {
                let _ = reply_rx.recv();
            }
        }
        if let Some(handle) = self.thread.lock().take() {
            let _ = handle.join();
        }
    }

    /// Closes the failed segment in the live list (holding records up to `seq`), deletes the
    /// segment files a failed creation left (on disk but never listed) and returns the number
    /// of the next segment (above every number used so far).
    fn retire_segments(&self, seq: u64) -> Result<u64, Error> {
        let mut segments = self.shared.segments.lock();
        segments.retire_active(seq);
        let on_disk = list_segments(&*self.fs, &self.dir)?;
        let mut highest = segments.max_number();
        for number in on_disk {
            highest = highest.max(Some(number));
            if !segments.contains(number) {
                let path = segment_path(&self.dir, number);
                self.fs.remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(highest.map_or(1, |n| n.saturating_add(1)))
    }
}
