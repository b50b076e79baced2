//! Idempotent producers: writers that name themselves and number their batches, so that a
//! batch re-sent after a lost acknowledgement is recognised and not applied twice.
//!
//! A producer is identified by a [`ProducerId`] (1 to 128 bytes of `[A-Za-z0-9._:-]`) and numbers
//! its batches with a `producer_seq` starting at 1. The engine keeps, per producer, the highest
//! applied seq (the producer's *high-water mark*). A write whose seq is at or below the mark is
//! a duplicate: acknowledged, not applied. A write above it is applied, and its seq becomes the
//! mark, in the same WAL record as its data (see [`crate::db::record`]), under the write lock
//! that assigns the engine's sequence number, so two racing writes of one producer cannot both
//! apply the same seq and a crash never keeps the data without its seq or the seq without its
//! data. Gaps are allowed: a producer may have dropped batches it will never send.
//!
//! # Durability of the table
//!
//! The table lives in memory ([`table::ProducerTable`]) and is rebuilt on open from the manifest
//! plus the WAL. Each flush records in its manifest edit group an [`Edit::Producers`] with the
//! marks that changed since the previous one, the producers forgotten since then, and `as_of`:
//! the engine sequence number up to which the table is complete. WAL segments are deleted only
//! up to the smallest of the flushed sequence numbers and that `as_of`, and the WAL is synced up
//! to `as_of` before the edit is written, so every mark the manifest holds has its data on disk
//! and every mark it lacks is still in the WAL. Recovery starts from the manifest's marks and
//! replays the producer stamps of WAL records above `as_of`. A manifest rotation writes the whole
//! table into the new file's snapshot.
//!
//! # Bounded state
//!
//! A producer not heard from (write, duplicate or resume) for `producer_state_ttl` is forgotten;
//! past `max_producers`, the least recently active producers are forgotten (one percent of the
//! cap at once, so a full table does not scan itself on every new producer). A forgotten producer
//! is unknown: resume answers "unknown" and its next batch is applied whatever its seq. Ages are
//! wall-clock milliseconds kept with each mark, so expiry survives restarts.
//!
//! One owner (the identity a front end scoped the id to, see [`owner`]) may have at most
//! `max_producers_per_owner` producers: a write that would create one more is refused
//! ([`InvalidInput::TooManyProducers`]) instead of evicting other owners' marks. Known producers
//! always write on; a producer forgotten by age frees its place.
//!
//! [`Edit::Producers`]: crate::manifest::Edit::Producers

pub(crate) mod owner;
pub(crate) mod table;

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// Longest producer id, in bytes.
pub(crate) const MAX_PRODUCER_ID_LEN: usize = 128;

/// A validated producer id: 1 to 128 bytes of `[A-Za-z0-9._:-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProducerId(String);

impl ProducerId {
    /// Checks `id` and wraps it; [`InvalidInput::BadProducerId`] when it is empty, too long or
    /// holds a character outside `[A-Za-z0-9._:-]`.
    pub fn new(id: impl Into<String>) -> Result<ProducerId, InvalidInput> {
        let id = id.into();
        check_producer_id(&id).map_err(|reason| InvalidInput::BadProducerId { id: shorten(&id), reason })?;
        Ok(ProducerId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProducerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why `id` is not a producer id, or `Ok`.
pub(crate) fn check_producer_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("it is empty");
    }
    if id.len() > MAX_PRODUCER_ID_LEN {
        return Err("it is longer than 128 bytes");
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')) {
        return Err("it holds a character outside [A-Za-z0-9._:-]");
    }
    Ok(())
}

/// The id escaped and cut to at most 64 characters, for error messages.
fn shorten(id: &str) -> String {
    let escaped: String = id.escape_debug().collect();
    match escaped.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &escaped[..cut]),
        None => escaped,
    }
}

/// A producer's high-water mark as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerMark {
    /// The producer id.
    pub id: String,
    /// Highest producer seq applied.
    pub applied_seq: u64,
    /// When the producer was last active, in milliseconds since the Unix epoch.
    pub active_ms: u64,
}

/// What a write of a producer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerReceipt {
    /// The engine's receipt when the write was applied; `None` for a duplicate (a seq at or below
    /// the producer's mark, acknowledged without being applied again).
    pub applied: Option<crate::batch::WriteReceipt>,
    /// The producer's highest applied seq after this write.
    pub applied_seq: u64,
}

impl ProducerReceipt {
    /// True when the write was a duplicate and nothing was applied.
    pub fn is_duplicate(&self) -> bool {
        self.applied.is_none()
    }
}

/// What the engine knows about a producer ([`Db::producer_state`](crate::Db::producer_state)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerState {
    /// Highest producer seq applied, durable per the sync policy; 0 when unknown.
    pub applied_seq: u64,
    /// False when the engine has no mark for the producer (never seen, or forgotten).
    pub known: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_documented_alphabet_and_length() {
        assert!(ProducerId::new("gw-01.plant:a_b").is_ok());
        assert!(ProducerId::new("x".repeat(128)).is_ok());
        for bad in ["", "has space", "slash/", "ü", &"x".repeat(129)] {
            let err = ProducerId::new(bad).unwrap_err();
            assert!(matches!(err, InvalidInput::BadProducerId { .. }), "{bad:?}: {err}");
        }
        let long = ProducerId::new(format!("{}!", "y".repeat(300))).unwrap_err().to_string();
        assert!(long.contains("...") && long.len() < 300, "{long}");
    }
}
