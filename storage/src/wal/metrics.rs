//! Counters of the WAL, kept with relaxed atomics by the appenders and the writer thread, and
//! their plain reading [`WalMetrics`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::histogram::{HistogramSnapshot, LatencyHistogram};

/// The live counters (inside the WAL's shared state).
#[derive(Debug, Default)]
pub(crate) struct WalCounters {
    appends: AtomicU64,
    append_bytes: AtomicU64,
    written_bytes: AtomicU64,
    sync_latency: LatencyHistogram,
}

impl WalCounters {
    /// One record of `bytes` payload bytes queued.
    pub(super) fn record_append(&self, bytes: usize) {
        self.appends.fetch_add(1, Ordering::Relaxed);
        self.append_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// `bytes` handed to the OS with `write(2)` (framing included).
    pub(super) fn record_written(&self, bytes: u64) {
        self.written_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// One `fdatasync` that took `took`.
    pub(super) fn record_sync(&self, took: Duration) {
        self.sync_latency.observe(took);
    }

    pub(super) fn read(&self) -> WalMetrics {
        let sync = self.sync_latency.snapshot();
        WalMetrics {
            appends: self.appends.load(Ordering::Relaxed),
            append_bytes: self.append_bytes.load(Ordering::Relaxed),
            written_bytes: self.written_bytes.load(Ordering::Relaxed),
            syncs: sync.count,
            sync_latency: sync,
        }
    }
}

/// What the WAL has done since it was opened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WalMetrics {
    /// Records appended.
    pub appends: u64,
    /// Payload bytes of the appended records.
    pub append_bytes: u64,
    /// Bytes written to segment files (payload plus record framing and segment headers).
    pub written_bytes: u64,
    /// `fdatasync` calls on segments (group commits under `sync = always`).
    pub syncs: u64,
    /// Latency of those `fdatasync` calls.
    pub sync_latency: HistogramSnapshot,
}
