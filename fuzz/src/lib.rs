//! # isobar-fuzz
//!
//! Fuzz targets for every decoder of bytes that come from disk or the network. Each target is a
//! plain function `fn(&[u8])` that must never panic on any input (a panic is a finding), so the
//! same code runs in two harnesses:
//!
//! - **stable, in CI**: `tests/smoke.rs` feeds every committed seed (`corpus/<target>/`), every
//!   regression input (`regressions/<target>/`) and a fixed number of deterministic mutations
//!   (bit flips, byte writes, truncations, splices; see [`mutate`]) through each target;
//! - **nightly, by hand**: `cargo fuzz` builds `fuzz_targets/<target>.rs` (three lines around
//!   [`libfuzzer_sys`]-style `fuzz_target!`) with the `libfuzzer` feature and runs it coverage
//!   guided for as long as wanted. See `README.md`.
//!
//! | target | input | decoder under test |
//! |---|---|---|
//! | [`sst_file`] | a whole `.sst` file | `SstReader::open`, `series`, `read`, `read_chunk`, `verify` |
//! | [`sst_mutated`] | `(offset, xor)` edits of a valid SSTable, checksums optionally repaired | the same, past the checksums |
//! | [`wal_segment`] | WAL segment files | `Wal::open` + `replay`, both recovery modes, then append and reopen |
//! | [`wal_payload`] | the payload of one intact WAL record | `Db::open` (record decoding, memtable apply), scans |
//! | [`wal_payload_flush`] | the same | the same, plus `Db::flush` (SSTable writing of what was replayed) |
//! | [`manifest_file`] | a whole `MANIFEST-000001` | `Manifest::create_or_open`, then an edit and a reopen |
//! | [`manifest_records`] | record payloads (JSON edits), framed and checksummed by the harness | the same, past the checksums |
//! | [`encoding`] | a column type, a row count, encoded bytes | `encoding::decode_array` / `decode_ints` |
//! | [`grpc_write`] | a protobuf `WriteRequest` | `prost` decode, `convert::request_to_batch`, `catalog::validate_batch` |
//! | [`line_protocol`] | a precision byte and a line-protocol body | `line_protocol::Parser`, `line_protocol::map_body` |
//! | [`pg_frontend`] | a state byte and what a PostgreSQL client sends | `pgwire`'s frontend message decoder (the PostgreSQL front end's) |
//!
//! Besides "no panic", targets assert properties that must hold for any input: WAL replay hands
//! out strictly increasing seqs and a second open replays exactly what the first one did;
//! a manifest that opened once reopens to the same state; decoded arrays have the requested
//! length and type and survive re-encoding; a validated batch has one value and validity slot
//! per row.
//!
//! [`seeds`] builds the valid inputs committed as seeds (`examples/make_corpus.rs` writes them).
//!
//! [`libfuzzer_sys`]: https://docs.rs/libfuzzer-sys

mod encoding;
mod grpc;
mod line_protocol;
mod manifest;
pub mod mutate;
mod postgres;
mod scratch;
pub mod seeds;
mod sst;
mod wal;

pub use encoding::encoding;
pub use grpc::grpc_write;
pub use line_protocol::line_protocol;
pub use manifest::{manifest_file, manifest_records};
pub use postgres::pg_frontend;
pub use sst::{sst_file, sst_mutated};
pub use wal::{FLUSH_DEADLINE, wal_payload, wal_payload_flush, wal_segment};

/// A fuzz target: must return normally for every input.
pub type Target = fn(&[u8]);

/// Every target by name; the name is also its directory under `corpus/` and `regressions/` and
/// its binary under `fuzz_targets/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("sst_file", sst_file),
    ("sst_mutated", sst_mutated),
    ("wal_segment", wal_segment),
    ("wal_payload", wal_payload),
    ("wal_payload_flush", wal_payload_flush),
    ("manifest_file", manifest_file),
    ("manifest_records", manifest_records),
    ("encoding", encoding),
    ("grpc_write", grpc_write),
    ("line_protocol", line_protocol),
    ("pg_frontend", pg_frontend),
];
