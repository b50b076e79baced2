//! The resume thread: after a failure the engine can recover from (a WAL write or sync that
//! failed, a full disk), it retries [`Db::resume`] in the background with back-off, 1 s doubling
//! to 30 s (RocksDB's automatic recovery after a retryable background error does the same), until
//! the database takes writes again, a failure it cannot recover from replaces the first one,
//! or the database closes. Started by the failure, so an idle healthy database runs no thread.

use std::sync::Weak;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::{Db, DbInner};

/// First wait before a retry.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The resume thread's handle and stop signal.
#[derive(Debug)]
pub(super) struct Resumer {
    stop: (Sender<()>, Receiver<()>),
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Resumer {
    pub(super) fn new() -> Self {
        Self { stop: crossbeam_channel::bounded(1), worker: Mutex::new(None) }
    }

    /// Starts the retry loop unless it is already running.
    pub(super) fn ensure_running(&self, inner: Weak<DbInner>) {
        let mut worker = self.worker.lock();
        if worker.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if let Some(done) = worker.take() {
            let _ = done.join();
        }
        let stop = self.stop.1.clone();
        let spawned = std::thread::Builder::new().name("isobar-resume".into()).spawn(move || run(inner, stop));
        match spawned {
            Ok(handle) => *worker = Some(handle),
            Err(e) => tracing::error!(error = %e, "could not start the resume thread; use `isobar admin resume`"),
        }
    }

    /// Tells the loop to exit and waits for it (at close).
    pub(super) fn stop_and_join(&self) {
        let handle = self.worker.lock().take();
        if let Some(handle) = handle {
            let _ = self.stop.0.try_send(());
            let _ = handle.join();
        }
        // A stop token nobody took must not end the next loop at once.
        let _ = self.stop.1.try_recv();
    }
}

/// The retry loop.
fn run(inner: Weak<DbInner>, stop: Receiver<()>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        match stop.recv_timeout(backoff) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let Some(inner) = inner.upgrade() else { return };
        let db = Db::worker(inner);
        if db.is_closed() {
            return;
        }
        match db.resume() {
            Ok(_) if db.inner.poison.lock().is_none() => return,
            Ok(_) => {}
            Err(e) if !db.resumable() => {
                tracing::error!(error = %e, "automatic recovery stopped: the failure needs a reopen");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?(backoff * 2).min(MAX_BACKOFF), "automatic recovery failed; writes stay refused");
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
