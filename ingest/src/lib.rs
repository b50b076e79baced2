//! # isobar-ingest
//!
//! The write edge of the server: turns gRPC write requests (and InfluxDB line protocol and
//! OTLP metrics) into engine [`WriteBatch`](isobar_storage::WriteBatch)es and applies them. Wire
//! types ([`isobar_proto::v1`]) stop here; the engine never sees them. The conversions shared
//! with the read side (selectors, table definitions) and the one table from errors to gRPC
//! statuses are [`isobar_wire`]'s; this crate does not depend on `isobar-query`, nor it on this.
//!
//! Modules:
//!
//! - [`convert`]: `WriteRequest` <-> `WriteBatch`, checking the wire-level shape (lengths,
//!   validity bitmaps, unset `oneof`s, empty requests, row limits) with errors that name the
//!   batch or row index, table, series and column.
//! - [`line_protocol`]: InfluxDB line protocol: an allocation-light parser, the mapping of
//!   measurements/tags/fields to tables/series keys/columns as one columnar batch, and the
//!   atomic write into the database (the HTTP front end is in the server crate).
//! - [`otlp`]: OpenTelemetry metrics (OTLP): gauge and sum data points to tables, series keys
//!   and a value column as one atomic write; the gRPC `MetricsService` is in the server crate.
//! - [`bitmap`]: the wire validity bitmap (LSB-first) and its checks.
//! - [`table`], [`selector`], [`status`]: [`isobar_wire`]'s modules, re-exported for the
//!   write-side clients (agent, CLI, load generator) that build table specs and read retry hints.
//!
//! - [`service`]: the tonic `Ingest` service. `Write` converts with
//!   [`convert::request_to_batch`] and hands the batch to `Db::write` on a blocking thread
//!   (never on a tokio worker); `WriteStream` does the same per message, in order.
//! - [`admission`]: back-pressure. A byte budget bounds the requests being converted and
//!   written; past it, calls fail fast with `RESOURCE_EXHAUSTED` and a retry hint, as they do
//!   when the engine answers `Overloaded`.
//! - [`ack`]: the counts a write acknowledges.
//! - [`request_limits`]: distinct series and cells per request, counted before conversion.
//! - [`producer`]: idempotent producers: the pipelined `ProducerStream` (one acknowledgement per
//!   message, in order, once durable) and `Resume`.
//!
//! Write path (gRPC): `isobar::server` (authentication layer, routing) -> [`service`]
//! ([`WriteGuard`] permission check, [`admission`] byte budget) -> [`convert`] (protobuf ->
//! `WriteBatch`, shape errors from [`isobar_wire::write`]) -> `isobar_storage::Db::write` (WAL
//! group commit, memtables) -> [`ack`]; a refusal becomes a status through
//! [`isobar_wire::status`].
//!
//! ```
//! use isobar_ingest::convert::request_to_batch;
//! use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
//!
//! let request = WriteRequest {
//!     rows: vec![Row {
//!         table: "weather".into(),
//!         series: "station=KSEA".into(),
//!         ts: 1_700_000_000_000_000_000,
//!         cells: vec![Cell {
//!             family: "env".into(),
//!             column: "temp_c".into(),
//!             value: Some(cell::Value::F64Value(11.5)),
//!             null: false,
//!         }],
//!     }],
//!     ..Default::default()
//! };
//! let batch = request_to_batch(request, 10_000).unwrap();
//! assert_eq!(batch.points(), 1);
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod ack;
pub mod admission;
pub mod bitmap;
pub mod convert;
pub mod line_protocol;
pub mod otlp;
pub mod producer;
pub mod request_limits;
pub mod service;

/// Re-exported from [`isobar_wire`] for write-side clients (the agent, the CLI, the load
/// generator) that build requests next to their writes.
pub use isobar_wire::{selector, status, table};

pub use service::{IngestLimits, IngestService, WriteGuard};
