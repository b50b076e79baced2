//! # isobar-ingest
//!
//! The write edge of the server: turns gRPC write requests into engine
//! [`WriteBatch`](isobar_storage::WriteBatch)es and table definitions into engine specs. Wire
//! types ([`isobar_proto::v1`]) stop here; the engine never sees them.
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
//! - [`table`]: `TableSpec`/`TableInfo` <-> the engine's `TableSpec`/`TableDef`, and the
//!   `AlterTable` pieces.
//! - [`selector`]: `SeriesSelector`/`TimeRange` <-> the engine's, shared with deletes and the
//!   query crate.
//!
//! - [`service`]: the tonic `Ingest` service. `Write` converts with
//!   [`convert::request_to_batch`] and hands the batch to `Db::write` on a blocking thread
//!   (never on a tokio worker); `WriteStream` does the same per message, in order.
//! - [`admission`]: back-pressure. A byte budget bounds the requests being converted and
//!   written; past it, calls fail fast with `RESOURCE_EXHAUSTED` and a retry hint, as they do
//!   when the engine answers `Overloaded`.
//! - [`status`]: one exhaustive `match` from every engine and conversion error to a gRPC
//!   `Status` (code, message, retryable flag and retry hint).
//! - [`ack`]: the counts a write acknowledges.
//! - [`producer`]: idempotent producers: the pipelined `ProducerStream` (one acknowledgement per
//!   message, in order, once durable) and `Resume`.
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
pub mod service;

/// Re-exported from [`isobar_wire`] for write-side clients (the agent, the CLI, the load
/// generator) that build requests next to their writes.
pub use isobar_wire::{selector, status, table};

pub use service::{IngestLimits, IngestService, WriteGuard};
