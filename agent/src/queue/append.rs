//! Appending records, acknowledging them, and the policy when the queue is full.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::segment::{self, Entry, MAGIC, Segment};
use super::{Checkpoint, FullPolicy, Inner, Queue, QueueError, Record, frame, state};

/// Why one attempt to write did not succeed.
enum Attempt {
    /// Over the bound, or the disk is full: apply the policy and retry.
    Full,
    /// Any other failure.
    Failed(QueueError),
}

impl Queue {
    /// Appends a record of `request` (protobuf bytes) carrying `checkpoints` and returns its
    /// sequence number, waiting for space under policy `block` as long as it takes.
    pub fn append(&self, request: Vec<u8>, checkpoints: Vec<Checkpoint>) -> Result<u64, QueueError> {
        self.append_until(request, checkpoints, None)
    }

    /// [`Queue::append`] that gives up with [`QueueError::Full`] at `deadline` (policy `block`).
    pub fn append_until(
        &self,
        request: Vec<u8>,
        checkpoints: Vec<Checkpoint>,
        deadline: Option<Instant>,
    ) -> Result<u64, QueueError> {
        let mut inner = self.lock();
        let enqueued_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let mut record = Record { seq: inner.last_seq + 1, enqueued_ms, checkpoints, request };
        let mut buf = Vec::with_capacity(record.request.len() + 64);
        loop {
            if inner.closed {
                return Err(QueueError::Closed);
            }
            record.seq = inner.last_seq + 1;
            buf.clear();
            let len = frame::encode(&record, &mut buf) as u64;
            if len + MAGIC.len() as u64 > self.opts.max_bytes {
                return Err(QueueError::TooLarge { bytes: len, max: self.opts.max_bytes });
            }
            let over = inner.total_bytes + len + MAGIC.len() as u64 > self.opts.max_bytes;
            let attempt = if over { Err(Attempt::Full) } else { self.write(&mut inner, &record, &buf) };
            match attempt {
                Ok(()) => break,
                Err(Attempt::Failed(err)) => return Err(err),
                Err(Attempt::Full) => match self.opts.policy {
                    FullPolicy::DropOldest => {
                        if !self.drop_oldest(&mut inner)? {
                            return Err(QueueError::Full { bytes: inner.total_bytes, max: self.opts.max_bytes });
                        }
                    }
                    FullPolicy::Block => {
                        let wait = match deadline {
                            None => std::time::Duration::from_secs(1),
                            Some(d) => match d.checked_duration_since(Instant::now()) {
                                Some(left) if !left.is_zero() => left,
                                _ => {
                                    return Err(QueueError::Full {
                                        bytes: inner.total_bytes,
                                        max: self.opts.max_bytes,
                                    });
                                }
                            },
                        };
                        inner =
                            self.space.wait_timeout(inner, wait).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
                    }
                },
            }
        }
        inner.last_seq = record.seq;
        for c in &record.checkpoints {
            inner.latest.insert(c.source.clone(), (c.file_id, c.offset));
        }
        self.data.notify_all();
        Ok(record.seq)
    }

    /// Writes one frame to the active segment (starting one if needed); on any failure the
    /// segment is cut back to its size before, so a failed append leaves nothing behind.
    fn write(&self, inner: &mut Inner, record: &Record, buf: &[u8]) -> Result<(), Attempt> {
        let roll = inner
            .segments
            .values()
            .next_back()
            .is_none_or(|s| s.bytes + buf.len() as u64 > self.opts.segment_bytes && !s.entries.is_empty());
        if inner.active.is_none() || roll {
            self.start_segment(inner, record.seq)?;
        }
        let Some(seg) = inner.segments.values_mut().next_back() else {
            return Err(Attempt::Failed(QueueError::Closed));
        };
        let Some(file) = inner.active.as_mut() else {
            return Err(Attempt::Failed(QueueError::Closed));
        };
        let before = seg.bytes;
        let result = file
            .seek(SeekFrom::Start(before))
            .and_then(|_| file.write_all(buf))
            .and_then(|()| if self.opts.fsync { file.sync_data() } else { Ok(()) });
        if let Err(err) = result {
            // Cut whatever part of the frame reached the file; the record does not exist.
            let _ = file.set_len(before);
            return Err(classify(err, &seg.path));
        }
        seg.bytes += buf.len() as u64;
        seg.entries.push(Entry {
            seq: record.seq,
            offset: before,
            len: buf.len() as u64,
            enqueued_ms: record.enqueued_ms,
        });
        inner.total_bytes += buf.len() as u64;
        Ok(())
    }

    fn start_segment(&self, inner: &mut Inner, first: u64) -> Result<(), Attempt> {
        // An empty newest segment (just its header) is reused rather than renamed.
        if let Some(seg) = inner.segments.values().next_back().filter(|s| s.entries.is_empty()) {
            let path = seg.path.clone();
            let file = fs::OpenOptions::new().write(true).open(&path).map_err(|e| classify(e, &path))?;
            inner.active = Some(file);
            return Ok(());
        }
        let path = self.dir.join(segment::file_name(first));
        let mut file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|e| classify(e, &path))?;
        if let Err(err) = file.write_all(MAGIC).and_then(|()| file.sync_all()) {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(classify(err, &path));
        }
        state::sync_dir(&self.dir).map_err(Attempt::Failed)?;
        inner.total_bytes += MAGIC.len() as u64;
        inner.segments.insert(first, Segment { path, bytes: MAGIC.len() as u64, entries: Vec::new() });
        inner.active = Some(file);
        Ok(())
    }

    /// Deletes the oldest segment; its unacknowledged records are counted as dropped. Returns
    /// false when there is nothing to delete.
    fn drop_oldest(&self, inner: &mut Inner) -> Result<bool, QueueError> {
        let Some((&first, seg)) = inner.segments.iter().next() else {
            return Ok(false);
        };
        let acked = inner.state.acked_seq;
        let dropped = seg.entries.iter().filter(|e| e.seq > acked).count() as u64;
        if seg.entries.is_empty() && inner.segments.len() == 1 {
            return Ok(false);
        }
        inner.state.dropped_records += dropped;
        tracing::warn!(segment = %seg.path.display(), dropped, "queue full: dropped the oldest segment");
        self.delete_segments(inner, &[first])?;
        Ok(true)
    }

    /// Records that the server applied every record up to `seq` and deletes the segments that
    /// hold nothing newer (the cursor is durable before any file goes).
    pub fn ack(&self, seq: u64) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if seq <= inner.state.acked_seq {
            return Ok(());
        }
        inner.state.acked_seq = seq;
        let done: Vec<u64> = inner
            .segments
            .iter()
            .filter(|(_, s)| s.entries.last().is_some_and(|e| e.seq <= seq))
            .map(|(k, _)| *k)
            .collect();
        if done.is_empty() {
            inner.state.store(&self.dir)?;
        } else {
            self.delete_segments(&mut inner, &done)?;
        }
        drop(inner);
        self.space.notify_all();
        Ok(())
    }

    /// Makes every new record number above `seq` (when the server knows this producer further
    /// than the queue does, e.g. after the queue directory was restored from an old copy).
    pub fn raise_floor(&self, seq: u64) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if seq > inner.last_seq {
            inner.last_seq = seq;
            inner.state.seq_floor = seq;
            inner.state.store(&self.dir)?;
        }
        Ok(())
    }

    /// Stores the state (cursor, floor, all checkpoints), then deletes `firsts`.
    fn delete_segments(&self, inner: &mut Inner, firsts: &[u64]) -> Result<(), QueueError> {
        let newest = inner.segments.keys().next_back().copied();
        for first in firsts {
            if let Some(last) = inner.segments.get(first).and_then(|s| s.entries.last()) {
                inner.state.seq_floor = inner.state.seq_floor.max(last.seq);
            }
        }
        inner.state.checkpoints = inner.latest.clone();
        inner.state.store(&self.dir)?;
        for first in firsts {
            if let Some(seg) = inner.segments.remove(first) {
                inner.total_bytes -= seg.bytes;
                if Some(*first) == newest {
                    inner.active = None;
                }
                fs::remove_file(&seg.path).map_err(|source| QueueError::Io { path: seg.path.clone(), source })?;
            }
        }
        state::sync_dir(&self.dir)
    }
}

/// A full disk is the queue being full; anything else is an error.
fn classify(err: std::io::Error, path: &std::path::Path) -> Attempt {
    if err.kind() == std::io::ErrorKind::StorageFull || err.raw_os_error() == Some(28) {
        Attempt::Full
    } else {
        Attempt::Failed(QueueError::Io { path: path.to_path_buf(), source: err })
    }
}
