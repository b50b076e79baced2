//! The audit log: every change to users, groups, tokens and grants, and every refused request,
//! with who, what, when and the outcome.
//!
//! Each entry is a structured log line with target `isobar::audit` (fields `who`, `action`,
//! `target`, `outcome`, `peer`), at info for changes and warn for refusals, and is kept in a
//! bounded in-memory ring of the latest [`KEEP`] entries that the admin RPC
//! `ListAuditEntries` (`isobar audit`) answers from. The ring does not survive a restart; the
//! log lines are the durable record. No entry holds a secret or a hash.

use std::collections::VecDeque;

use parking_lot::Mutex;

/// Entries kept for `ListAuditEntries`.
pub const KEEP: usize = 10_000;

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When, Unix ms.
    pub at_ms: i64,
    /// The principal (or `unauthenticated`).
    pub who: String,
    /// What was asked: a change (`create_user`, `grant`, ...) or an RPC/endpoint name.
    pub action: String,
    /// What it was about (a user, group, table or permission).
    pub target: String,
    /// `ok`, `denied: ...`, `unauthenticated: ...` or `refused: ...`.
    pub outcome: String,
    /// The client's address, when known.
    pub peer: String,
}

/// See the module doc.
#[derive(Debug, Default)]
pub struct AuditLog {
    entries: Mutex<VecDeque<AuditEntry>>,
}

impl AuditLog {
    /// Logs `entry` and keeps it.
    pub fn record(&self, entry: AuditEntry) {
        let AuditEntry { who, action, target, outcome, peer, .. } = &entry;
        if outcome == "ok" {
            tracing::info!(target: "isobar::audit", %who, %action, %target, %outcome, %peer, "access change");
        } else {
            tracing::warn!(target: "isobar::audit", %who, %action, %target, %outcome, %peer, "request refused");
        }
        let mut entries = self.entries.lock();
        if entries.len() >= KEEP {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The latest `limit` entries, oldest first.
    pub fn recent(&self, limit: usize) -> Vec<AuditEntry> {
        let entries = self.entries.lock();
        entries.iter().skip(entries.len().saturating_sub(limit)).cloned().collect()
    }
}

/// Now, Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
