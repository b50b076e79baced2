//! The flusher: the flush thread, its job queue, and what it knows about failing flushes.
//!
//! Writers freeze memtables and [`Flusher::queue`] their family; the thread flushes the oldest
//! frozen memtable of each queued family (the loop and the steps are in `flush.rs`). A failed flush is retried
//! with back-off (100 ms doubling to 10 s, or at once after [`Flusher::nudge`]); meanwhile
//! [`Flusher::last_failure`] tells held-back writers why.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::Error;
use crate::schema::FamilyId;
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

/// Work for the flush thread.
#[derive(Debug)]
pub(super) enum Job {
    /// Flush the oldest frozen memtable of a family.
    Flush(FamilyId),
    /// Finish and exit.
    Stop,
}

/// Why flushes fail, kept while they do.
#[derive(Clone, Debug)]
pub(super) struct FlushFailure {
    /// The error of the last attempt.
    reason: String,
    /// The file that could not be written because the disk is full, if that was the cause.
    disk_full: Option<PathBuf>,
}

impl FlushFailure {
    pub(super) fn of(e: &Error) -> Self {
        Self { reason: e.to_string(), disk_full: e.disk_full_path().map(Path::to_path_buf) }
    }

    /// The error of the last attempt.
    pub(super) fn reason(&self) -> &str {
        &self.reason
    }

    /// True when the last attempt failed because the disk is full.
    pub(super) fn is_disk_full(&self) -> bool {
        self.disk_full.is_some()
    }

    /// The error a caller held back by the failing flushes gets.
    pub(super) fn to_error(&self) -> Error {
        match &self.disk_full {
            Some(path) => Error::DiskFull { during: "flush", path: path.clone(), resumes: true },
            None => Error::FlushFailing { reason: self.reason.clone() },
        }
    }
}

/// The flush thread and its state.
#[derive(Debug)]
pub(super) struct Flusher {
    jobs: Sender<Job>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// The error of the last flush attempt, while flushes fail (cleared by a success).
    failure: Mutex<Option<FlushFailure>>,
    /// Failed flush attempts so far (lets `flush` tell a new failure from an old one).
    failures: AtomicU64,
    /// A token here makes a flush worker that is backing off after a failure retry at once.
    retry: (Sender<()>, Receiver<()>),
}

impl Flusher {
    /// A flusher and the receiving end of its queue (for the worker loop in `flush.rs`).
    pub(super) fn new() -> (Self, Receiver<Job>) {
        let (jobs, rx) = crossbeam_channel::unbounded();
        let flusher = Self {
            jobs,
            worker: Mutex::new(None),
            failure: Mutex::new(None),
            failures: AtomicU64::new(0),
            retry: crossbeam_channel::bounded(1),
        };
        (flusher, rx)
    }

    /// Keeps the handle of the thread running the worker loop, to join at close.
    pub(super) fn started(&self, handle: JoinHandle<()>) {
        *self.worker.lock() = Some(handle);
    }

    /// Queues a flush of the oldest frozen memtable of `family`.
    pub(super) fn queue(&self, family: FamilyId) {
        let _ = self.jobs.send(Job::Flush(family));
    }

    /// Makes a worker that backs off after a failure retry at once.
    pub(super) fn nudge(&self) {
        let _ = self.retry.0.try_send(());
    }

    /// Drops a nudge sent before the attempt about to begin (which answers it).
    pub(super) fn clear_nudge(&self) {
        let _ = self.retry.1.try_recv();
    }

    /// Waits up to `backoff` for a nudge.
    pub(super) fn wait_nudge(&self, backoff: Duration) {
        let _ = self.retry.1.recv_timeout(backoff);
    }

    /// Records a failed attempt.
    pub(super) fn failed(&self, e: &Error) {
        *self.failure.lock() = Some(FlushFailure::of(e));
        self.failures.fetch_add(1, Ordering::AcqRel);
    }

    /// Records a successful flush: flushes no longer fail.
    pub(super) fn succeeded(&self) {
        self.failure.lock().take();
    }

    /// Failed attempts since open.
    pub(super) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// Why the last attempt failed, while flushes fail.
    pub(super) fn last_failure(&self) -> Option<FlushFailure> {
        self.failure.lock().clone()
    }

    /// Tells the thread to exit after the job at hand.
    pub(super) fn signal_stop(&self) {
        let _ = self.jobs.send(Job::Stop);
    }

    /// Waits for the thread to exit.
    pub(super) fn join(&self) {
        let handle = self.worker.lock().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}
