//! The manifest: the durable record of the catalog (tables, families, columns), of the SSTable
//! files that make up each column family, of per-family flushed WAL sequence numbers, of range
//! deletes and of the id counters.
//!
//! Every change is a group of [`Edit`]s appended as one record to a log file and `fsync`ed before
//! [`Manifest::apply`] returns, so a group is either wholly durable or, after a crash, wholly
//! absent. Replaying the log from an empty [`ManifestState`] rebuilds the state.
//!
//! # Files in the database directory
//!
//! ```text
//! CURRENT            "MANIFEST-000007\n": names the live manifest; replaced atomically
//! CURRENT.tmp        only while CURRENT is being replaced; stray after a crash, deleted on open
//! MANIFEST-000007    the live log (number: decimal, at least 6 digits, zero-padded)
//! MANIFEST-000008    stray after a crash while rotating (CURRENT not switched); deleted on open
//! ```
//!
//! # Manifest file layout
//!
//! ```text
//! +------------------+------------------+-----------------+------------------+-----
//! | header record    | snapshot records | edit record     | edit record      | ...
//! +------------------+------------------+-----------------+------------------+-----
//!
//! record:
//! +----------------+----------------+---------------------------------------------+
//! | len: u32 LE    | crc: u32 LE    | payload: `len` bytes                         |
//! +----------------+----------------+---------------------------------------------+
//!   2 <= len <= 64 MiB; crc = CRC32C (Castagnoli) of the payload only;
//!   payload = UTF-8 JSON array of edits, e.g. [{"add_file":{...}},{"flushed_seq":{...}}]
//!
//! header record payload (first record of every file, alone in it):
//!   [{"header":{"magic":"isobar-manifest","version":1,"snapshot_records":2}}]
//!   snapshot_records = how many records after the header hold the snapshot (0 when absent)
//! ```
//!
//! Idempotent producers' marks (see the `producer` module) are kept here too, like RocksDB keeps
//! per-column-family metadata in its version edits: every flush appends, in the same record as its
//! `add_file`s and `flushed_seq`, one
//!
//! ```text
//! {"producers":{"as_of_seq":S,"set":[{"id":"gw-1","applied_seq":77,"active_ms":1763700000000},...],"forget":["gw-0"]}}
//! ```
//!
//! with the marks changed since the previous one, the producers forgotten since then (applied
//! first), and `S`, the engine sequence number up to which the table is complete (the WAL was
//! synced through `S` before the record was written). WAL segments are deleted only up to `S`;
//! recovery replays producer stamps from WAL records above it. A snapshot holds the whole table
//! as `producers` edits of at most 1,000 marks each.
//!
//! A file created by rotation holds, after the header, the full state as
//! [`ManifestState::snapshot_edits`] in records of at most 1,000 edits; the first file of a new
//! database holds the header only. No record spans files; there is no file footer.
//!
//! # Rotation
//!
//! When the records appended after the file's snapshot exceed [`ManifestOptions::max_records`],
//! or their bytes exceed [`ManifestOptions::max_bytes`] (or the snapshot's size, whichever is
//! larger, so a big state does not rotate on every edit), the manifest writes
//! `MANIFEST-<n+1>` (header + snapshot), `fsync`s it and the directory, writes and `fsync`s
//! `CURRENT.tmp`, renames it over `CURRENT`, `fsync`s the directory and deletes the old file.
//! A crash before the rename leaves the old `CURRENT` in force; a crash after it leaves the new
//! one. Either way the open that follows deletes the file that is not named.
//!
//! # Recovery
//!
//! A torn last record (the crash interrupted its append, so it was never acknowledged) is ignored
//! and cut off. A bad record followed by a valid one was once complete and durable, so it is
//! [`Error::Corrupt`] naming the file and the record's offset; so is a cut inside the snapshot
//! ([`CorruptReason::SnapshotIncomplete`]), which was synced before `CURRENT` named the file and
//! cannot be torn. A header with another version is [`Error::UnsupportedVersion`]. Ids of tables,
//! families, files and tombstones are never reused: the counters survive drops and rotations.

mod access;
mod catalog;
mod edit;
mod error;
mod files;
mod log;
mod state;
#[cfg(test)]
mod tests;
mod writer;

pub use access::{AccessCatalog, MAX_ACCESS_CATALOG_BYTES};
pub use edit::{Edit, FileId, FileMeta, Tombstone};
pub use error::{CorruptReason, EditError, Error, IdKind};
pub use log::{MAX_RECORD_LEN, RECORD_HEADER_LEN};
pub use state::ManifestState;
pub use writer::{Manifest, ManifestOptions};

/// Magic string in the header record of every manifest file.
pub const MAGIC: &str = "isobar-manifest";
/// Format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the file that names the live manifest.
pub const CURRENT: &str = "CURRENT";
