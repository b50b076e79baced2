//! The compactor: the background compaction thread, its channel, the compaction lock and the
//! window bookkeeping that drives write throttling.
//!
//! The thread wakes on a signal (a flush finished) or every `interval`, then runs tasks until
//! every family is in shape (the loop and the steps are in `compaction.rs`). Background and manual compactions
//! and checkpoints serialise on [`Compactor::exclusive`], so merges never overlap.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Mutex, MutexGuard};

/// Messages to the compaction worker.
#[derive(Debug)]
pub(super) enum Signal {
    /// Something changed (a flush finished); look for work.
    Wake,
    /// Exit.
    Stop,
}

/// The compaction thread and its state.
#[derive(Debug)]
pub(super) struct Compactor {
    /// Wakes or stops the background worker (`None` when it is disabled).
    signals: Option<Sender<Signal>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// Held by whoever compacts, so background and manual compactions never overlap.
    lock: Mutex<()>,
    /// The most SSTables any window of any family holds (updated after flushes and merges).
    window_files: AtomicUsize,
    /// Merges running now (a gauge).
    running: AtomicU64,
}

impl Compactor {
    /// A compactor, and the receiving end of its channel when it runs in the background.
    pub(super) fn new(background: bool) -> (Self, Option<Receiver<Signal>>) {
        let (signals, rx) = if background {
            let (tx, rx) = crossbeam_channel::bounded(1);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let compactor = Self {
            signals,
            worker: Mutex::new(None),
            lock: Mutex::new(()),
            window_files: AtomicUsize::new(0),
            running: AtomicU64::new(0),
        };
        (compactor, rx)
    }

    /// Keeps the handle of the thread running the worker loop, to join at close.
    pub(super) fn started(&self, handle: JoinHandle<()>) {
        *self.worker.lock() = Some(handle);
    }

    /// Wakes the background worker.
    pub(super) fn wake(&self) {
        if let Some(tx) = &self.signals {
            let _ = tx.try_send(Signal::Wake);
        }
    }

    /// The compaction lock: held while merging (and by a checkpoint while it links files).
    pub(super) fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.lock.lock()
    }

    /// The most SSTables any window of any family holds.
    pub(super) fn window_files(&self) -> usize {
        self.window_files.load(Ordering::Relaxed)
    }

    /// Records the most SSTables any window holds now.
    pub(super) fn set_window_files(&self, files: usize) {
        self.window_files.store(files, Ordering::Relaxed);
    }

    /// Merges running now.
    pub(super) fn running(&self) -> u64 {
        self.running.load(Ordering::Relaxed)
    }

    /// Counts a merge as running until the guard is dropped.
    pub(super) fn enter_merge(&self) -> RunningMerge<'_> {
        self.running.fetch_add(1, Ordering::Relaxed);
        RunningMerge(&self.running)
    }

    /// Tells the thread to exit.
    pub(super) fn signal_stop(&self) {
        if let Some(tx) = &self.signals {
            let _ = tx.send(Signal::Stop);
        }
    }

    /// Waits for the thread to exit.
    pub(super) fn join(&self) {
        let handle = self.worker.lock().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

/// Counts a running merge in [`Compactor::running`] until dropped.
pub(super) struct RunningMerge<'a>(&'a AtomicU64);

impl Drop for RunningMerge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
