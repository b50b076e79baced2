//! Holding writes back: the stall ladder (slowed, then stopped) over the memory budget and the
//! fullest compaction window, and waiting for flushes or merges to make room.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Db;
use crate::error::{Error, Result};

/// Whether writes are held back, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum StallState {
    /// Writes go at full speed.
    #[default]
    Normal,
    /// Writes are delayed a little so that flushes and compaction can catch up.
    Slowed(String),
    /// Writes wait (and fail with `Overloaded` past the stall timeout).
    Stopped(String),
}

impl Db {
    /// Whether writes should be held back now: stopped past the memory budget or the
    /// per-window file limit, slowed when close to them (RocksDB's delayed-write / stopped-write
    /// states, as one ladder).
    pub(super) fn stall_state(&self) -> StallState {
        let held = self.current().memtable_bytes();
        let budget = self.inner.opts.memtable_budget;
        let files = self.inner.compactor.window_files();
        let c = &self.inner.opts.compaction;
        if held >= budget {
            StallState::Stopped(format!(
                "memtables hold {} MiB of a {} MiB budget; waiting for flushes",
                held >> 20,
                budget >> 20
            ))
        } else if files >= c.stop_files {
            StallState::Stopped(format!(
                "a time window holds {files} SSTables (stop at {}); waiting for compaction",
                c.stop_files
            ))
        } else if held >= budget / 10 * 8 {
            StallState::Slowed(format!("memtables hold {} MiB, 80% of the {} MiB budget", held >> 20, budget >> 20))
        } else if files >= c.slowdown_files {
            StallState::Slowed(format!("a time window holds {files} SSTables (slow down at {})", c.slowdown_files))
        } else {
            StallState::Normal
        }
    }

    /// Delays or holds a write according to [`Db::stall_state`].
    pub(super) fn throttle(&self) -> Result<()> {
        match self.stall_state() {
            StallState::Normal => Ok(()),
            StallState::Slowed(_) => {
                self.inner.counters.slowed_writes.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
                Ok(())
            }
            StallState::Stopped(_) => self.wait_for_progress(),
        }
    }

    /// Waits while writes are stopped; fails past the stall timeout.
    fn wait_for_progress(&self) -> Result<()> {
        let started = Instant::now();
        let deadline = started + self.inner.opts.write_stall_timeout;
        self.inner.counters.stalls.fetch_add(1, Ordering::Relaxed);
        let (lock, cond) = &self.inner.progress;
        let mut guard = lock.lock();
        loop {
            self.check_writable()?;
            let state = self.stall_state();
            let StallState::Stopped(reason) = state else {
                self.inner.counters.record_stall(started.elapsed());
                return Ok(());
            };
            let now = Instant::now();
            if now >= deadline {
                self.inner.counters.record_stall(started.elapsed());
                self.inner.counters.stall_rejections.fetch_add(1, Ordering::Relaxed);
                // Held back because flushes fail: say why; a full disk is its own, typed error.
                let failure = self.inner.flusher.last_failure();
                if let Some(f) = &failure
                    && f.is_disk_full()
                {
                    return Err(f.to_error());
                }
                let cause = failure.map(|f| format!("; flushes are failing: {}", f.reason())).unwrap_or_default();
                return Err(Error::Overloaded {
                    reason: format!("{reason}, for longer than {:?}{cause}", self.inner.opts.write_stall_timeout),
                    retry_after: Duration::from_secs(1),
                });
            }
            cond.wait_until(&mut guard, deadline.min(now + Duration::from_millis(50)));
        }
    }
}
