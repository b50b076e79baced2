//! The agent's counters and the status file `status.json` that the running agent rewrites
//! atomically every second and `isobar agent status` prints.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use crate::queue::{QueueError, QueueStats};

/// File name of the status inside the queue directory.
pub const STATUS_FILE: &str = "status.json";

/// Counters of this agent process (since it started).
#[derive(Debug, Default)]
pub struct Metrics {
    /// Rows read by the sources.
    pub rows_in: AtomicU64,
    /// Readings a source could not map (logged and skipped).
    pub bad_readings: AtomicU64,
    /// Records appended to the queue.
    pub queued: AtomicU64,
    /// Records sent (including resends after a reconnect).
    pub sent: AtomicU64,
    /// Records acknowledged as applied.
    pub acknowledged: AtomicU64,
    /// Of those, acknowledged as duplicates (already applied before).
    pub duplicates: AtomicU64,
    /// Records the server rejected as invalid (skipped, logged).
    pub rejected: AtomicU64,
    /// Connections (re)established after the first.
    pub reconnects: AtomicU64,
    /// Line-protocol lines dropped for exceeding `max_line_bytes`.
    pub lines_too_long: AtomicU64,
    /// Line-protocol TCP connections closed at once for exceeding `max_connections`.
    pub connections_refused: AtomicU64,
    /// Line-protocol TCP connections closed after `idle_timeout_ms` without data.
    pub connections_idle_closed: AtomicU64,
}

/// What `status.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The producer id.
    pub producer_id: String,
    /// When written, ms since the epoch.
    pub updated_ms: u64,
    /// Whether an agent is running on this queue: written true while it runs and false when it
    /// stops; `agent status` replaces it with whether the queue's `LOCK` is held, which also
    /// tells a killed agent apart from a running one.
    #[serde(default)]
    pub running: bool,
    /// Whether the forwarder is connected (false whenever the agent is not running).
    pub connected: bool,
    /// Rows read by the sources.
    pub rows_in: u64,
    /// Readings skipped as unmappable.
    pub bad_readings: u64,
    /// Records queued by this process.
    pub queued: u64,
    /// Records sent by this process.
    pub sent: u64,
    /// Records acknowledged to this process.
    pub acknowledged: u64,
    /// Duplicates among them.
    pub duplicates: u64,
    /// Records rejected by the server.
    pub rejected: u64,
    /// Reconnects.
    pub reconnects: u64,
    /// Line-protocol lines dropped as too long.
    #[serde(default)]
    pub lines_too_long: u64,
    /// Line-protocol connections refused past the cap.
    #[serde(default)]
    pub connections_refused: u64,
    /// Line-protocol connections closed as idle.
    #[serde(default)]
    pub connections_idle_closed: u64,
    /// Age of the oldest unacknowledged record in ms (0 if none).
    pub lag_ms: u64,
    /// The queue's own state.
    pub queue: QueueStats,
}

impl Metrics {
    /// A snapshot as a status.
    pub fn status(&self, producer_id: &str, connected: bool, queue: QueueStats, now_ms: u64) -> Status {
        Status {
            producer_id: producer_id.to_string(),
            updated_ms: now_ms,
            running: true,
            connected,
            rows_in: self.rows_in.load(Relaxed),
            bad_readings: self.bad_readings.load(Relaxed),
            queued: self.queued.load(Relaxed),
            sent: self.sent.load(Relaxed),
            acknowledged: self.acknowledged.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            lines_too_long: self.lines_too_long.load(Relaxed),
            connections_refused: self.connections_refused.load(Relaxed),
            connections_idle_closed: self.connections_idle_closed.load(Relaxed),
            lag_ms: if queue.oldest_unacked_ms == 0 { 0 } else { now_ms.saturating_sub(queue.oldest_unacked_ms) },
            queue,
        }
    }
}

impl Status {
    /// Writes `status.json` in `dir` atomically (temp file + rename).
    pub fn store(&self, dir: &Path) -> Result<(), QueueError> {
        let tmp = dir.join("status.json.tmp");
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| QueueError::State { path: tmp.clone(), reason: e.to_string() })?;
        std::fs::write(&tmp, bytes).map_err(|source| QueueError::Io { path: tmp.clone(), source })?;
        let path = dir.join(STATUS_FILE);
        std::fs::rename(&tmp, &path).map_err(|source| QueueError::Io { path, source })
    }

    /// The status as of now: `running` is whether an agent holds the queue (its `LOCK`), and a
    /// queue nobody runs is not connected, whatever the file last said.
    pub fn checked(mut self, dir: &Path) -> Self {
        self.running = crate::queue::in_use(dir);
        self.connected &= self.running;
        self
    }

    /// Reads `status.json` of `dir`.
    pub fn load(dir: &Path) -> Result<Self, QueueError> {
        let path = dir.join(STATUS_FILE);
        let bytes = std::fs::read(&path).map_err(|source| QueueError::Io { path: path.clone(), source })?;
        serde_json::from_slice(&bytes).map_err(|e| QueueError::State { path, reason: e.to_string() })
    }

    /// The status as an aligned two-column table.
    pub fn table(&self) -> String {
        let q = &self.queue;
        let rows: [(&str, String); 23] = [
            ("producer_id", self.producer_id.clone()),
            ("updated_ms", self.updated_ms.to_string()),
            ("running", self.running.to_string()),
            ("connected", self.connected.to_string()),
            ("rows_in", self.rows_in.to_string()),
            ("bad_readings", self.bad_readings.to_string()),
            ("queued", self.queued.to_string()),
            ("sent", self.sent.to_string()),
            ("acknowledged", self.acknowledged.to_string()),
            ("duplicates", self.duplicates.to_string()),
            ("rejected", self.rejected.to_string()),
            ("reconnects", self.reconnects.to_string()),
            ("lines_too_long", self.lines_too_long.to_string()),
            ("connections_refused", self.connections_refused.to_string()),
            ("connections_idle_closed", self.connections_idle_closed.to_string()),
            ("lag_ms", self.lag_ms.to_string()),
            ("queue.acked_seq", q.acked_seq.to_string()),
            ("queue.last_seq", q.last_seq.to_string()),
            ("queue.unacked_records", q.unacked_records.to_string()),
            ("queue.queued_bytes", q.queued_bytes.to_string()),
            ("queue.oldest_unacked_ms", q.oldest_unacked_ms.to_string()),
            ("queue.dropped_records", q.dropped_records.to_string()),
            ("queue.corrupt_frames", q.corrupt_frames.to_string()),
        ];
        rows.iter().map(|(k, v)| format!("{k:<24} {v}\n")).collect()
    }
}
